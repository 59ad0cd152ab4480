import type Database from 'better-sqlite3';
import type { UploadRecord, UploadStore } from '../../spec/upload-store.js';

interface UploadRow {
  id: string;
  key_id: string;
  blob_key: string;
  content_type: string;
  size_bytes: number;
  url_hash: string;
  created_at: number;
  expires_at: number;
}

/** Records of uploads in the embedded store. */
export class SqliteUploads implements UploadStore {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO uploads (id, key_id, blob_key, content_type, size_bytes, url_hash, created_at, expires_at)
         VALUES (@id, @keyId, @blobKey, @contentType, @sizeBytes, @urlHash, @createdAt, @expiresAt)`,
      ),
      byUrlHash: db.prepare('SELECT * FROM uploads WHERE url_hash = ?'),
    };
  }

  async recordUpload(upload: UploadRecord): Promise<void> {
    this.statements.insert.run(upload);
  }

  async findUploadByUrlHash(urlHash: string): Promise<UploadRecord | undefined> {
    const row = this.statements.byUrlHash.get(urlHash) as UploadRow | undefined;
    return (
      row && {
        id: row.id,
        keyId: row.key_id,
        blobKey: row.blob_key,
        contentType: row.content_type,
        sizeBytes: row.size_bytes,
        urlHash: row.url_hash,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      }
    );
  }
}
