import { listOf, type Config } from '../config.js';
import { AddressPolicy } from '../net/address-policy.js';
import { GuardedDownloader } from '../net/guarded-downloader.js';
import type { ResultDownloader } from './upstream/result-mirror.js';

/** A finished video brought home from an engine is never larger than this. */
const largestResultBytes = 2 * 1024 * 1024 * 1024;

/**
 * The downloader of one engine's results: the policy of user media (public addresses, and
 * what `media_allow_hosts` / `media_allow_ranges` open) plus the host of the engine's own
 * `base_url`. A GPU host on a private address is so reachable by its engine only: user media
 * URLs pointing at it are still refused.
 */
export function engineResultDownloader(config: Config, baseUrl: string): ResultDownloader {
  const policy = new AddressPolicy({
    allowHosts: [...listOf(config.media_allow_hosts), new URL(baseUrl).hostname],
    allowRanges: listOf(config.media_allow_ranges),
  });
  const downloader = new GuardedDownloader({ policy, totalTimeoutMs: config.media_timeout_seconds * 1000, userAgent: 'wan-api' });
  return async (url, file, { signal, headers } = {}) => {
    await downloader.download(url, file, { maxBytes: largestResultBytes, signal, headers });
  };
}
