/**
 * A parent process for tests of what happens to ffmpeg when its parent dies: runs one long
 * ffmpeg through `runFfmpeg` (the ffmpeg in argv[2], 60 s of generated video written as fast as
 * real time) started as renders are (idle class, niceness 19, on one CPU: through every launcher),
 * and prints `running` once ffmpeg reports progress, then waits to be killed.
 *
 *   node --import tsx test/support/ffmpeg-parent.ts /path/to/ffmpeg
 */
import { allowedCpus } from '../../src/media/cpu-scheduling.js';
import { runFfmpeg } from '../../src/media/run-ffmpeg.js';

let announced = false;
await runFfmpeg(process.argv[2], ['-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=60', '-f', 'null', '-'], {
  niceness: 19,
  scheduling: { idle: true, cpus: allowedCpus().slice(-1) },
  onProgress: () => {
    if (!announced) console.log('running');
    announced = true;
  },
});
