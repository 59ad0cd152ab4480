import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { ModelId } from '../../models/model.js';
import { UpstreamEngine } from '../upstream/upstream-engine.js';
import type { UpstreamDefaults, UpstreamEngineOptions } from '../upstream/upstream-engine-options.js';
import { OpenAiVideosProtocol } from './openai-videos-protocol.js';
import type { OpenAiVideosTarget } from './translate-request.js';

export interface OpenAiVideosEngineOptions extends Omit<UpstreamEngineOptions, 'models' | 'baseUrl'> {
  /** The server's `/v1` URL, e.g. `http://gpu1:8091/v1`. */
  baseUrl: string;
  /** The models it carries out (what its checkpoint can do). */
  models: readonly ModelId[];
  /** The checkpoint, frame rate, sizes and steps requests are fitted to. */
  target: Omit<OpenAiVideosTarget, 'engine'>;
  /** For the input's dimensions (i2v's size follows its first frame). */
  toolchain: FfmpegToolchain;
}

const defaults: Omit<UpstreamDefaults, 'baseUrl' | 'models'> = {
  kind: 'openai-videos',
  name: 'openai-videos',
  requiresApiKey: false,
  // A GPU takes minutes per video and reports progress at every step: a check each 5 s at most.
  suggestedPollMs: 5_000,
};

/**
 * Carries tasks out on a server of the open Wan models behind `/v1/videos` (vLLM-Omni, SGLang
 * Diffusion): t2v and i2v, with the first frame uploaded as `input_reference`.
 */
export class OpenAiVideosEngine extends UpstreamEngine {
  constructor(options: OpenAiVideosEngineOptions) {
    const name = options.name ?? defaults.name;
    super(
      options,
      { ...defaults, baseUrl: options.baseUrl, models: options.models },
      (connection) => new OpenAiVideosProtocol(connection, { ...options.target, engine: name }, options.toolchain),
    );
  }
}
