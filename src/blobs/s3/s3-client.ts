import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientSettings {
  region: string;
  /** An S3-compatible service; the AWS endpoint of the region when absent. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** The SDK's default chain (environment, profiles, instance and task roles) when absent. */
  credentials?: S3ClientConfig['credentials'];
}

/** The SDK client every S3 request of the server goes through, set up for S3-compatible services too. */
export function createS3Client(settings: S3ClientSettings): S3Client {
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials,
    // Checksums only where S3 requires them: the CRC32 headers and trailers that newer SDKs add
    // by default are refused or mishandled by several S3-compatible services (R2, older MinIO),
    // and TLS already protects the bytes in transit.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK waits forever by default: a stalled service must fail a write, not hang a task.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
}
