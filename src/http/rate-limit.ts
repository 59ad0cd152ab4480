import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../auth/api-keys.js';
import type { LimitPolicy } from '../limits/limit-policy.js';
import type { RequestRateLimiter } from '../limits/request-rate-limiter.js';

export interface RateLimitOptions {
  auth: CachedAuthenticator;
  policy: LimitPolicy;
  limiter: RequestRateLimiter;
}

/**
 * Holds each key to its requests per minute, before the body is read: a refused upload costs
 * nothing. The key is found as the routes find it (the authenticator's cache makes the second
 * look free); a request whose key is missing or wrong is left to its route, which answers it
 * (or, for the public routes, does not need one). Keys without a limit are not counted.
 */
export function installRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const admit = async (header: string): Promise<void> => {
    const key = await options.auth.authenticate(header).catch(() => undefined);
    if (!key) return;
    const limit = options.policy.limitsOf(key).requestsPerMinute;
    if (limit !== null) await options.limiter.admit(key.id, limit);
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.authorization;
    if (header === undefined) return done();
    // Most requests come from a key seen a moment ago that has no rate: they pass without a promise.
    const known = options.auth.known(header);
    if (known !== undefined && options.policy.limitsOf(known).requestsPerMinute === null) return done();
    admit(header).then(() => done(), done);
  });
}
