import { isIP } from 'node:net';
import { ApiError } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import { AddressPolicy } from '../net/address-policy.js';
import { uploadKeyPrefix } from './uploaded-media-source.js';

/**
 * What an upstream engine sends its cloud for an input URL. Public URLs pass unchanged. A file
 * uploaded to this server is reachable there only through this server's public URL; when that
 * is a loopback, private or local address (or was never set), the task fails at once with
 * MEDIA_NOT_REACHABLE instead of failing at the cloud after a paid wait.
 */
export function upstreamMediaUrls(blobs: BlobStore, publicUrl: string | undefined, clock: () => number = Date.now): (field: string, url: string) => string {
  const reachable = publicUrl !== undefined && isPubliclyReachable(publicUrl);
  return (field, url) => {
    const own = blobs.keyOfSignedUrl(url, clock());
    if (!own || !own.key.startsWith(uploadKeyPrefix) || reachable) return url;
    throw new ApiError(
      400,
      'MEDIA_NOT_REACHABLE',
      `${field}: this file was uploaded to this server, and the cloud engine cannot reach this server's URL` +
        `${publicUrl ? ` (${new URL(publicUrl).origin})` : ''}: set public_url to an address the internet reaches, or pass a public URL of the file`,
      { field },
    );
  };
}

function isPubliclyReachable(publicUrl: string): boolean {
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return new AddressPolicy().check(host, host).allowed;
  return host !== 'localhost' && !/\.(localhost|local|internal|lan|home\.arpa)$/i.test(host) && host.includes('.');
}
