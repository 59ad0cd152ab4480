import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * Signs result URLs with an HMAC over the blob key and the expiry, so the server can hand out
 * links that need no API key, cannot be altered to reach another file, and stop working at
 * `video_url_ttl`.
 */
export class UrlSigner {
  /** Imported once: an HMAC given the secret as a string imports it on every signature (a sixth of one). */
  private readonly secret: KeyObject;

  constructor(secret: string) {
    this.secret = createSecretKey(Buffer.from(secret));
  }

  sign(key: string, expiresAtSeconds: number): string {
    return createHmac('sha256', this.secret).update(`${key}\n${expiresAtSeconds}`).digest('base64url');
  }

  /** 'valid', or why not: a bad signature is told apart from an honest link that expired. */
  verify(key: string, expiresAtSeconds: number, signature: string, nowMs: number): 'valid' | 'expired' | 'invalid' {
    const expected = Buffer.from(this.sign(key, expiresAtSeconds));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return expiresAtSeconds * 1000 < nowMs ? 'expired' : 'valid';
  }
}
