/**
 * Input media checks: the time to check a 10 MB image and a 100 MB video (format from the bytes,
 * structure, ffprobe, limits) against ffprobe alone on the same file, and the peak memory of the
 * real server process while it fetches 10 large videos at once.
 *
 *   npm run bench:media [-- --runs 7]
 *
 * Prints markdown tables.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { resolveFfmpeg } from '../src/media/ffmpeg-binaries.js';
import { inspectMedia } from '../src/media/media-inspection.js';
import { checkMediaLimits } from '../src/media/media-limit-check.js';
import { probeMedia } from '../src/media/probe.js';
import { runFfmpeg } from '../src/media/run-ffmpeg.js';
import { imageLimits, videoLimits } from '../src/models/media-limits.js';
import { listening, percentile, root, serverArgs, startProcess, stop } from './processes.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Math.max(1, Number(values.runs));
const toolchain = await resolveFfmpeg();
const work = await mkdtemp(path.join(tmpdir(), 'wan-bench-media-'));
const image = path.join(work, 'photo.png');
const video = path.join(work, 'clip.mp4');

// Noise does not compress: a 2000x1700 PNG is about 10 MB, ten seconds of noisy 1080p at 80 Mb/s about 100 MB.
await runFfmpeg(toolchain.ffmpegPath, ['-y', '-f', 'lavfi', '-i', 'color=gray:s=2000x1700,noise=alls=100:allf=u', '-frames:v', '1', image]);
await runFfmpeg(toolchain.ffmpegPath, [
  '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=30:d=10', '-vf', 'noise=alls=20:allf=t',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '80M', '-maxrate', '80M', '-bufsize', '80M', video,
]);

async function millis(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** The whole check against ffprobe alone, interleaved, medians of `runs`. */
async function checkAgainstProbe(file: string, limits: Parameters<typeof checkMediaLimits>[2]) {
  const check = async () => {
    const facts = await inspectMedia(toolchain, file);
    const violations = checkMediaLimits('field', facts, limits);
    if (violations.length > 0) throw new Error(`the benchmark file breaks a limit: ${violations[0].message}`);
  };
  await check();
  const checks: number[] = [];
  const probes: number[] = [];
  for (let run = 0; run < runs; run++) {
    probes.push(await millis(() => probeMedia(toolchain, file)));
    checks.push(await millis(check));
  }
  return { bytes: (await stat(file)).size, check: percentile(checks, 0.5), probe: percentile(probes, 0.5) };
}

const checks = [
  { label: 'image (PNG 2000x1700)', ...(await checkAgainstProbe(image, imageLimits({ maxMegabytes: 20, maxAspectRatio: 8, opaqueOnly: true }))) },
  { label: 'video (MP4 1080p, 10 s)', ...(await checkAgainstProbe(video, videoLimits({ minSeconds: 2, maxSeconds: 10, maxAspectRatio: 8 }))) },
];

/** Peak resident memory of the server while it fetches 10 copies of the video at once. */
async function peakMemoryOfTenFetches() {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'video/mp4' });
    createReadStream(video).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const mediaUrl = (index: number) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip-${index}.mp4`;
  const dataDir = await mkdtemp(path.join(work, 'server-'));
  const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', '--data-dir', dataDir], { cwd: root }).toString().trim();
  const api = await startProcess(
    serverArgs(dataDir, ['--worker-concurrency', '10', '--media-allow-ranges', '127.0.0.1/32']),
    listening,
  );
  const status = async () => readFile(`/proc/${api.child.pid}/status`, 'utf8');
  const kilobytes = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)![1]);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  try {
    await sleep(500);
    const idle = kilobytes(await status(), 'VmRSS');
    const started = performance.now();
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) {
      const body = JSON.stringify({ prompt: 'Convert the scene to clay style', video_url: mediaUrl(index), resolution: '720P', duration: 2 });
      ids.push((await (await fetch(`${api.value}/v3/async/wan2.7-videoedit`, { method: 'POST', headers, body })).json()).task_id);
    }
    let failed = 0;
    for (const id of ids) {
      for (;;) {
        const result = await (await fetch(`${api.value}/v3/async/task-result?task_id=${id}`, { headers })).json();
        if (result.task.status === 'TASK_STATUS_FAILED') failed++;
        if (result.task.status === 'TASK_STATUS_SUCCEED' || result.task.status === 'TASK_STATUS_FAILED') break;
        await sleep(100);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = kilobytes(await status(), 'VmHWM');
    return { idleMb: idle / 1024, peakMb: peak / 1024, fetchedMb: (10 * (await stat(video)).size) / 1e6, seconds, failed };
  } finally {
    await stop(api.child);
    server.close();
  }
}

const memory = await peakMemoryOfTenFetches();
await rm(work, { recursive: true, force: true });

console.log(`\nmedian of ${runs} interleaved runs, ${toolchain.ffprobePath} (${process.version})\n`);
console.log('| file | size | full check | ffprobe alone | ratio |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const row of checks) {
  console.log(`| ${row.label} | ${(row.bytes / 1e6).toFixed(1)} MB | ${row.check.toFixed(1)} ms | ${row.probe.toFixed(1)} ms | ${(row.check / row.probe).toFixed(2)}× |`);
}
console.log(
  `\n10 videoedit tasks fetching ${memory.fetchedMb.toFixed(0)} MB at once (then rendered), ${memory.seconds.toFixed(1)} s, ${memory.failed} failed:` +
    ` server RSS idle ${memory.idleMb.toFixed(0)} MB, peak ${memory.peakMb.toFixed(0)} MB (+${(memory.peakMb - memory.idleMb).toFixed(0)} MB)`,
);
