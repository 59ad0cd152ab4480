import { randomBytes } from 'node:crypto';

/** A key's webhook signing secret: `whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries read. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
