import type { Config } from '../../config.js';
import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { Engine } from '../../spec/engine.js';
import type { UpstreamObserver } from '../../spec/upstream-observer.js';
import type { ResultDownloader } from '../upstream/result-mirror.js';
import type { MediaUrlMapper } from '../upstream/upstream-media.js';
import type { EngineSettings } from './engine-settings.js';

/** What building an engine may use besides its own settings. */
export interface KindContext {
  config: Config;
  toolchain: FfmpegToolchain;
  /** What engines that send media URLs (clouds) send for each input URL. */
  mediaUrl: MediaUrlMapper;
  /** A result downloader that may also reach `baseUrl`'s host (see engine-network.ts). */
  downloaderFor(baseUrl: string): ResultDownloader;
  /** Told of every HTTP request an engine makes to its upstream (the metrics). */
  upstreamObserver?: UpstreamObserver;
}

/** One kind of engine of the `engines` setting: the fields it takes, and how it is built from them. */
export interface EngineKind {
  /** The fields besides `kind`; any other is refused. */
  fields: readonly string[];
  build(settings: EngineSettings, context: KindContext): Engine;
}
