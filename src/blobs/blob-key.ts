/**
 * Blob keys are relative paths made of safe segments. Checking the shape here, before any
 * store sees a key, is what keeps `../` and absolute paths from ever reaching the disk.
 */
const segment = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidBlobKey(key: string): boolean {
  const parts = key.split('/');
  return key.length <= 512 && parts.length <= 8 && parts.every((part) => segment.test(part) && !part.includes('..'));
}

export function resultVideoKey(taskId: string, index: number): string {
  return `videos/${taskId}/${index}.mp4`;
}

const contentTypes: Record<string, string> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  bmp: 'image/bmp',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
};

export function contentTypeOfKey(key: string): string {
  const extension = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return contentTypes[extension] ?? 'application/octet-stream';
}
