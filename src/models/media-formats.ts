/**
 * Every media format an input field may take, once: its kind, the name messages use, the
 * Content-Type it is stored and served with, and the file extensions it goes by. The limits of
 * each field (media-limits.ts), the checker's messages, uploads, the blob store and the SDK all
 * read this table.
 *
 * A plain table with no imports, so the SDK can load it without any server code.
 */
export const mediaFormats = {
  jpg: { kind: 'image', label: 'JPEG', contentType: 'image/jpeg', extensions: ['jpg', 'jpeg'] },
  png: { kind: 'image', label: 'PNG', contentType: 'image/png', extensions: ['png'] },
  bmp: { kind: 'image', label: 'BMP', contentType: 'image/bmp', extensions: ['bmp'] },
  webp: { kind: 'image', label: 'WEBP', contentType: 'image/webp', extensions: ['webp'] },
  mp4: { kind: 'video', label: 'MP4', contentType: 'video/mp4', extensions: ['mp4'] },
  mov: { kind: 'video', label: 'MOV', contentType: 'video/quicktime', extensions: ['mov'] },
  wav: { kind: 'audio', label: 'WAV', contentType: 'audio/wav', extensions: ['wav'] },
  mp3: { kind: 'audio', label: 'MP3', contentType: 'audio/mpeg', extensions: ['mp3'] },
  flac: { kind: 'audio', label: 'FLAC', contentType: 'audio/flac', extensions: ['flac'] },
} as const;

export type MediaFormat = keyof typeof mediaFormats;
export type MediaKind = (typeof mediaFormats)[MediaFormat]['kind'];
type FormatOf<Kind extends MediaKind> = { [F in MediaFormat]: (typeof mediaFormats)[F]['kind'] extends Kind ? F : never }[MediaFormat];
export type ImageFormat = FormatOf<'image'>;
export type VideoFormat = FormatOf<'video'>;
export type AudioFormat = FormatOf<'audio'>;

const formatNames = Object.keys(mediaFormats) as MediaFormat[];

/** The formats of one kind, in the table's order. */
export function formatsOf<Kind extends MediaKind>(kind: Kind): FormatOf<Kind>[] {
  return formatNames.filter((format) => mediaFormats[format].kind === kind) as FormatOf<Kind>[];
}

/** The kind of a format as file-type names it (`jpg`, `mp4` …), or undefined for a format no field takes. */
export function kindOfFormat(format: string): MediaKind | undefined {
  return Object.hasOwn(mediaFormats, format) ? mediaFormats[format as MediaFormat].kind : undefined;
}

/** The format a name stands for (`jpeg` → `jpg`), or undefined when no field takes it. */
export function formatNamed(name: string): MediaFormat | undefined {
  const lower = name.toLowerCase();
  return formatNames.find((format) => (mediaFormats[format].extensions as readonly string[]).includes(lower));
}

/** The Content-Type of a file from its extension; `application/octet-stream` for any other. */
export function contentTypeOfName(fileName: string): string {
  const format = formatNamed(fileName.slice(fileName.lastIndexOf('.') + 1));
  return format ? mediaFormats[format].contentType : 'application/octet-stream';
}

/** `JPEG, PNG, BMP, WEBP images, MP4, MOV videos, WAV, MP3, FLAC audio`: what messages list as accepted (of `kinds`). */
export function describeAcceptedFormats(kinds: readonly MediaKind[] = ['image', 'video', 'audio']): string {
  const plural = { image: 'images', video: 'videos', audio: 'audio' } as const;
  return kinds
    .map((kind) => `${formatsOf(kind).map((format) => mediaFormats[format].label).join(', ')} ${plural[kind]}`)
    .join(', ');
}
