import { modelIds } from '../../models/registry.js';
import { UpstreamEngine } from '../upstream/upstream-engine.js';
import type { UpstreamDefaults, UpstreamEngineOptions } from '../upstream/upstream-engine-options.js';
import { NovitaProtocol } from './novita-protocol.js';

export type NovitaEngineOptions = UpstreamEngineOptions;

export const novitaDefaults: UpstreamDefaults = {
  kind: 'novita',
  name: 'novita',
  models: modelIds,
  requiresApiKey: true,
  baseUrl: 'https://api.novita.ai',
  // The provider suggests no interval; its tasks report progress, worth reading every 10 s.
  suggestedPollMs: 10_000,
};

/**
 * Carries tasks out at a provider of this same API (novita.ai, its resellers, or another server
 * like this one): the request is forwarded with the job's seed, followed until it ends, and its
 * videos copied into the attempt's workDir.
 */
export class NovitaEngine extends UpstreamEngine {
  constructor(options: NovitaEngineOptions) {
    super(options, novitaDefaults, (connection) => new NovitaProtocol(connection));
  }
}
