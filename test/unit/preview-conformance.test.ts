import { PreviewEngine } from '../../src/engines/preview/preview-engine.js';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { engineJob, runEngineConformance } from '../support/engine-conformance.js';

runEngineConformance(
  'preview',
  async () => new PreviewEngine({ toolchain: await resolveFfmpeg() }),
  (workDir) => engineJob('wan2.7-t2v', { prompt: 'a small test', size: '1280*720', duration: 2 }, { workDir }),
);
