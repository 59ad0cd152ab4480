import path from 'node:path';
import { type Config, ConfigError } from '../config.js';
import type { BlobStore } from '../spec/blob-store.js';
import { LocalBlobStore } from './local/local-blob-store.js';
import type { UrlSigner } from './url-signer.js';

export interface BlobStoreContext {
  dataDir: string;
  /** Signs the local store's URLs. */
  signer: UrlSigner;
  /** Where clients reach this server; read when a local URL is made (the port is known late). */
  baseUrl: () => string;
}

/**
 * The blob store of the configuration: the S3 bucket `s3_bucket` when set, else files under
 * `<data_dir>/blobs`. A configuration that cannot work is refused here, at start.
 */
export async function openBlobStore(config: Config, context: BlobStoreContext): Promise<BlobStore> {
  if (!config.s3_bucket) {
    const stray = (['s3_endpoint', 's3_region', 's3_prefix', 's3_force_path_style'] as const).filter(
      (key) => config[key] !== undefined && config[key] !== false,
    );
    if (stray.length > 0) {
      const [verb, pronoun] = stray.length > 1 ? ['are', 'them'] : ['is', 'it'];
      throw new ConfigError(`${stray.join(', ')} ${verb} set but s3_bucket is not: set s3_bucket to keep files in S3, or remove ${pronoun}`);
    }
    return new LocalBlobStore(path.join(context.dataDir, 'blobs'), context.signer, context.baseUrl);
  }
  if (config.s3_endpoint !== undefined && !/^https?:$/.test(safeUrl(config.s3_endpoint)?.protocol ?? '')) {
    throw new ConfigError(`s3_endpoint is ${JSON.stringify(config.s3_endpoint)}: use a URL such as https://s3.example.com or http://127.0.0.1:9000`);
  }
  // Loaded only here: importing the AWS SDK costs about 0.3 s (0.6 s from a cold disk) and
  // 26 MB, which the local store does not need to pay.
  const { openS3BlobStore } = await import('./s3/open-s3-blob-store.js');
  return openS3BlobStore({
    bucket: config.s3_bucket,
    endpoint: config.s3_endpoint,
    region: config.s3_region,
    prefix: config.s3_prefix,
    forcePathStyle: config.s3_force_path_style,
    urlLifetimes: { result_url_ttl_seconds: config.result_url_ttl_seconds, upload_url_ttl_seconds: config.upload_url_ttl_seconds },
  });
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
