import path from 'node:path';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { serveDirectory } from './file-server.js';
import { makeAudio, makeImage, makeVideo } from './media-fixtures.js';
import { runCli, startServerProcess } from './server-process.js';
import { tempDir } from './temp-dir.js';

/** The fixture media are served from loopback, which the default address policy refuses. */
export const allowLoopbackMedia = ['--media-allow-ranges', '127.0.0.1/32'];

/**
 * What an end-to-end test file needs: the real `wan serve` process with a key made by
 * `wan keys create`, and input media (a square PNG, a 3 s clip with sound, a 3 s voice) served
 * from loopback. Everything is stopped and removed when the file ends.
 */
export async function startE2eEnvironment(serverArgs: string[] = []) {
  const toolchain = await resolveFfmpeg();
  const dataDir = tempDir();
  const mediaDir = tempDir();
  await Promise.all([
    makeImage(toolchain, path.join(mediaDir, 'square.png'), { width: 400, height: 400 }),
    makeVideo(toolchain, path.join(mediaDir, 'clip.mp4'), { width: 640, height: 360, seconds: 3, audio: true }),
    makeAudio(toolchain, path.join(mediaDir, 'voice.wav'), { seconds: 3 }),
  ]);
  const media = await serveDirectory(mediaDir);
  const createdKey = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout;
  const server = await startServerProcess(dataDir, [...allowLoopbackMedia, ...serverArgs]);
  return { toolchain, dataDir, mediaDir, media, createdKey, key: createdKey.trim(), server, outDir: tempDir() };
}
