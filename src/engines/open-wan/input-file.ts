import { openAsBlob } from 'node:fs';
import { fileTypeFromFile } from 'file-type';
import type { LocalMedia } from '../../spec/engine.js';

/**
 * An input file of the job as an upload: its bytes (read lazily from disk), its media type and a
 * file name whose extension says its format, which servers go by (ComfyUI's loaders, vLLM's
 * "is this a video" test). The format is read from the bytes, as the media check did.
 */
export async function inputFile(media: LocalMedia, baseName: string): Promise<{ blob: Blob; fileName: string }> {
  const type = await fileTypeFromFile(media.path);
  const blob = await openAsBlob(media.path, { type: type?.mime ?? 'application/octet-stream' });
  return { blob, fileName: `${baseName}.${type?.ext ?? 'bin'}` };
}
