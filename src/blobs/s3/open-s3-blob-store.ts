import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../../config.js';
import { isPubliclyReachable } from '../../net/public-url.js';
import { longestPresignSeconds, S3BlobStore } from './s3-blob-store.js';
import { createS3Client } from './s3-client.js';

export interface S3Settings {
  bucket: string;
  /** An S3-compatible service; the AWS endpoint of the region when absent. */
  endpoint?: string;
  /** The SDK's region (AWS_REGION, the profile) when absent, else us-east-1. */
  region?: string;
  /** Folder of every key in the bucket, with or without slashes around it. */
  prefix?: string;
  forcePathStyle: boolean;
  /** The lifetimes URLs will be asked for, by the name of their setting. */
  urlLifetimes: Record<string, number>;
}

/** Region of a bucket when nothing names one: where S3 itself sends requests without a region. */
const fallbackRegion = 'us-east-1';

/**
 * The S3 store of the settings, once the bucket answered: a missing bucket, wrong or missing
 * credentials and an unreachable endpoint stop the server at start with a message saying what
 * to fix, instead of failing the first task that finishes.
 */
export async function openS3BlobStore(settings: S3Settings): Promise<S3BlobStore> {
  for (const [name, seconds] of Object.entries(settings.urlLifetimes)) {
    if (seconds > longestPresignSeconds) {
      throw new ConfigError(`${name} is ${seconds}, but S3 presigned URLs live at most ${longestPresignSeconds} seconds (7 days): lower it`);
    }
  }
  const region = settings.region ?? (await regionOfSdk());
  const client = createS3Client({ region, endpoint: settings.endpoint, forcePathStyle: settings.forcePathStyle });
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
  } catch (error) {
    client.destroy();
    throw new ConfigError(bucketProblem(error, settings, region));
  }
  return new S3BlobStore({
    client,
    bucket: settings.bucket,
    prefix: normalizedPrefix(settings.prefix),
    // Presigned URLs point at the service itself, so they reach as far as it does.
    urlsReachOutside: settings.endpoint === undefined || isPubliclyReachable(settings.endpoint),
  });
}

/** `wan`, `/wan/` and `wan/` all mean the folder `wan/`. */
function normalizedPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** The region the SDK's own chain finds (AWS_REGION, the profile's region in ~/.aws/config). */
async function regionOfSdk(): Promise<string> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return fallbackRegion;
  } finally {
    probe.destroy();
  }
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

function bucketProblem(error: unknown, settings: S3Settings, region: string): string {
  const failure = error as SdkError;
  const bucket = `the S3 bucket "${settings.bucket}"`;
  const where = settings.endpoint ? `at ${settings.endpoint}` : `in AWS region ${region}`;
  const status = failure.$metadata?.httpStatusCode;
  if (failure.name === 'CredentialsProviderError') {
    return (
      `no AWS credentials were found for ${bucket}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ` +
      `or AWS_PROFILE, or run with an instance or task role (${failure.message})`
    );
  }
  if (status === 404) return `${bucket} does not exist ${where}: create it, or correct s3_bucket (and s3_endpoint)`;
  if (status === 403) {
    return (
      `${bucket} ${where} refused these credentials (HTTP 403): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
      `(or the profile or role), and that they may list the bucket (s3:ListBucket)`
    );
  }
  const actualRegion = failure.$response?.headers?.['x-amz-bucket-region'];
  if (status === 301 || (actualRegion && actualRegion !== region)) {
    return `${bucket} is in ${actualRegion ? `region ${actualRegion}` : 'another region'}, not ${region}: set s3_region`;
  }
  if (status === undefined) {
    return `cannot reach S3 ${where} for ${bucket}: ${failure.code ?? failure.name}: ${failure.message} (check s3_endpoint and the network)`;
  }
  return `${bucket} ${where} cannot be used: HTTP ${status} ${failure.name}: ${failure.message}`;
}
