/** A file received by `POST /v3/uploads`: its blob, who sent it, and the URL it was answered with. */
export interface UploadRecord {
  id: string;
  keyId: string;
  blobKey: string;
  contentType: string;
  sizeBytes: number;
  /** SHA-256 of the URL answered: a task that names that URL reads the blob by key instead. */
  urlHash: string;
  createdAt: number;
  /** When the answered URL stops working. */
  expiresAt: number;
}

export interface UploadStore {
  recordUpload(upload: UploadRecord): Promise<void>;
  /** The upload a URL this server answered stands for. */
  findUploadByUrlHash(urlHash: string): Promise<UploadRecord | undefined>;
}
