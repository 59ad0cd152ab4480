import { ApiError } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import type { OwnUploads } from './own-uploads.js';

/**
 * What an upstream engine sends its cloud for an input URL. Other URLs pass unchanged, and so
 * does an upload's URL when the blob store's URLs reach outside (object storage, or a public
 * server URL). Otherwise the cloud could not fetch it, so the task fails at once with
 * MEDIA_NOT_REACHABLE instead of failing at the cloud after a paid wait.
 */
export function upstreamMediaUrls(uploads: OwnUploads, blobs: BlobStore): (field: string, url: string) => Promise<string> {
  return async (field, url) => {
    if (blobs.urlsReachOutside || !(await uploads.find(url))) return url;
    throw new ApiError(
      400,
      'MEDIA_NOT_REACHABLE',
      `${field}: this file was uploaded to this server, and the cloud engine cannot reach where it is kept` +
        ` (${new URL(url).origin}): set public_url to an address the internet reaches (or use object storage the internet reaches), or pass a public URL of the file`,
      { field },
    );
  };
}
