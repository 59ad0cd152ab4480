import { PreviewEngine } from '../../src/engines/preview/preview-engine.js';
import { testToolchain } from '../support/media-fixtures.js';
import { engineJob, runEngineConformance } from '../support/engine-conformance.js';

runEngineConformance(
  'preview',
  async () => new PreviewEngine({ toolchain: await testToolchain() }),
  (workDir) => engineJob('wan2.7-t2v', { prompt: 'a small test', size: '1280*720', duration: 2 }, { workDir }),
);
