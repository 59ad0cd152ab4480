/**
 * Blob keys are relative paths made of safe segments. Checking the shape here, before any
 * store sees a key, is what keeps `../` and absolute paths from ever reaching the disk, and
 * keeps object keys free of anything that would need escaping in a URL.
 */
const segment = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
/** One to eight segments; checked whole, since every result link signed passes here. */
const blobKey = new RegExp(`^${segment}(?:/${segment}){0,7}$`);

export function isValidBlobKey(key: string): boolean {
  return key.length <= 512 && blobKey.test(key) && !key.includes('..');
}

/** For the stores: a key that reaches one unchecked is a bug of the caller, never user input. */
export function assertValidBlobKey(key: string): void {
  if (!isValidBlobKey(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
}

export function resultVideoKey(taskId: string, index: number): string {
  return `videos/${taskId}/${index}.mp4`;
}

/** A frame of a task's first result, made on demand by the OpenAI-compatible API and kept beside it. */
export function resultThumbnailKey(taskId: string): string {
  return `videos/${taskId}/thumbnail.jpg`;
}

/**
 * Every file kept for a task's results: its videos, and the thumbnail `/v1/videos` may have made
 * beside them (absent thumbnails are nothing to a blob store's delete).
 */
export function resultFiles(resultKeys: readonly string[]): string[] {
  const folders = new Set(resultKeys.map((key) => key.slice(0, key.lastIndexOf('/') + 1)));
  return [...resultKeys, ...[...folders].map((folder) => `${folder}thumbnail.jpg`)];
}
