import { modelIds } from '../../models/registry.js';
import { UpstreamEngine } from '../upstream/upstream-engine.js';
import type { UpstreamDefaults, UpstreamEngineOptions } from '../upstream/upstream-engine-options.js';
import { DashScopeProtocol } from './dashscope-protocol.js';

export type DashScopeEngineOptions = UpstreamEngineOptions;

export const dashScopeDefaults: UpstreamDefaults = {
  kind: 'dashscope',
  name: 'dashscope',
  models: modelIds,
  requiresApiKey: true,
  // Singapore; Virginia is https://dashscope-us.aliyuncs.com, Beijing https://dashscope.aliyuncs.com.
  baseUrl: 'https://dashscope-intl.aliyuncs.com',
  // DashScope's documented polling interval.
  suggestedPollMs: 15_000,
};

/**
 * Carries tasks out on Alibaba Cloud Model Studio, where Wan 2.7 runs first: each request is
 * translated into DashScope's video-synthesis call (see translate-request.ts), followed until it
 * ends, and its video copied into the attempt's workDir.
 */
export class DashScopeEngine extends UpstreamEngine {
  constructor(options: DashScopeEngineOptions) {
    super(options, dashScopeDefaults, (connection) => new DashScopeProtocol(connection));
  }
}
