import type { UploadRecord, UploadStore } from '../../spec/upload-store.js';
import type { Database } from './database.js';

const statements = {
  insert: `INSERT INTO uploads (id, key_id, blob_key, content_type, size_bytes, url_hash, created_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  byUrlHash: `SELECT id, key_id AS "keyId", blob_key AS "blobKey", content_type AS "contentType", size_bytes AS "sizeBytes",
      url_hash AS "urlHash", created_at AS "createdAt", expires_at AS "expiresAt"
    FROM uploads WHERE url_hash = $1`,
};

/** Records of uploads in PostgreSQL: any process finds the upload behind a URL another one answered. */
export class PgUploads implements UploadStore {
  constructor(private readonly db: Database) {}

  async recordUpload(upload: UploadRecord): Promise<void> {
    await this.db.query({
      text: statements.insert,
      values: [upload.id, upload.keyId, upload.blobKey, upload.contentType, upload.sizeBytes, upload.urlHash, upload.createdAt, upload.expiresAt],
    });
  }

  async findUploadByUrlHash(urlHash: string): Promise<UploadRecord | undefined> {
    const { rows } = await this.db.query<UploadRecord>({ name: 'wan-find-upload', text: statements.byUrlHash, values: [urlHash] });
    return rows[0];
  }
}
