import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testToolchain } from '../support/media-fixtures.js';
import { allowedCpus, parseCpuList } from '../../src/media/cpu-scheduling.js';
import { FfmpegError, killRunningFfmpeg, outTimeSeconds, runFfmpeg } from '../../src/media/run-ffmpeg.js';
import { tempDir } from '../support/temp-dir.js';

/** A field of /proc/<pid>/stat (1-based as in proc(5)); the name in brackets may hold spaces. */
function statField(statText: string, field: number): string {
  return statText.slice(statText.lastIndexOf(')') + 2).split(' ')[field - 3];
}

/** The pids of the running (not zombie) ffmpeg processes whose parent is `parentPid`. */
function ffmpegChildren(parentPid: number): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const running = statField(stat, 3) !== 'Z';
      return running && Number(statField(stat, 4)) === parentPid && stat.includes('(ffmpeg)') ? [Number(entry)] : [];
    } catch {
      return []; // ended while we looked
    }
  });
}

/** Whether `pid` still runs: a zombie waiting for its (new) parent to reap it runs no more. */
function isRunning(pid: number): boolean {
  try {
    return statField(readFileSync(`/proc/${pid}/stat`, 'utf8'), 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Scheduling policies as /proc/<pid>/stat field 41 shows them (sched.h). */
const schedOther = 0;
const schedIdle = 5;

/** A 60 s ffmpeg run at real time: long enough to look at while it runs. */
const longRun = ['-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=60', '-f', 'null', '-'];
/** The same with an encoder that starts threads of its own, however few CPUs it may use. */
const threadedRun = [...longRun.slice(0, -3), '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '2', '-f', 'null', '-'];

describe('runFfmpeg', () => {
  const dir = tempDir();

  test('reports the output position as it goes, up to the end', async () => {
    const { ffmpegPath } = await testToolchain();
    const positions: number[] = [];
    await runFfmpeg(ffmpegPath, ['-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=3', '-c:v', 'libx264', '-preset', 'ultrafast', path.join(dir, 'progress.mp4')], {
      onProgress: (seconds) => positions.push(seconds),
    });
    assert.ok(positions.length > 0, 'at least one report');
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'never goes back');
    assert.ok(Math.abs(positions.at(-1)! - 3) < 0.1, `last report ${positions.at(-1)}`);
  });

  test('a failure carries the end of the log', async () => {
    const { ffmpegPath } = await testToolchain();
    const error = await runFfmpeg(ffmpegPath, ['-y', '-i', path.join(dir, 'missing.png'), path.join(dir, 'out.mp4')]).then(
      () => assert.fail('ffmpeg should fail'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof FfmpegError);
    assert.notEqual(error.exitCode, 0);
    assert.ok(error.stderrTail.length > 0 && error.stderrTail.length <= 20);
    assert.match(error.message, /missing\.png/);
  });

  test('aborting kills ffmpeg and rejects with the reason', async () => {
    const { ffmpegPath } = await testToolchain();
    const controller = new AbortController();
    const started = Date.now();
    const run = runFfmpeg(ffmpegPath, longRun, {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop now')),
    });
    await assert.rejects(run, /stop now/);
    assert.ok(Date.now() - started < 5_000, 'stopped long before the 60 s input ended');
  });

  test('killRunningFfmpeg (what process exit runs) kills every ffmpeg still running', async () => {
    const { ffmpegPath } = await testToolchain();
    let started!: () => void;
    const reported = new Promise<void>((resolve) => (started = resolve));
    const run = runFfmpeg(ffmpegPath, longRun, { onProgress: () => started() });
    await reported;
    assert.equal(killRunningFfmpeg(), 1);
    await assert.rejects(run, (error: unknown) => error instanceof FfmpegError && error.exitSignal === 'SIGKILL');
    assert.equal(killRunningFfmpeg(), 0, 'nothing left running');
  });

  test('an already aborted signal starts nothing', async () => {
    const spawned: string[] = [];
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await assert.rejects(
      runFfmpeg('ffmpeg', [], { signal: controller.signal, spawnProcess: (command) => (spawned.push(command), assert.fail()) }),
      /too late/,
    );
    assert.deepEqual(spawned, []);
  });

  test('a binary that cannot be started is a clear error, through every launcher', async () => {
    const missing = path.join(dir, 'no-ffmpeg-here');
    for (const scheduling of [{}, { idle: true, cpus: allowedCpus().slice(-1) }]) {
      await assert.rejects(runFfmpeg(missing, ['-version'], { scheduling }), /^Error: cannot run ffmpeg ".*no-ffmpeg-here": .*(no such file|ENOENT)/i);
    }
    assert.equal(existsSync(missing), false);
  });

  test('the end of a crash report is kept without its memory map and bare backtrace addresses', async () => {
    // A shell stands in for an ffmpeg that aborts as glibc reports a heap corruption.
    const fake = path.join(dir, 'crashing-ffmpeg');
    const { writeFile, chmod } = await import('node:fs/promises');
    await writeFile(
      fake,
      [
        '#!/bin/sh',
        "echo '*** Error in `ffmpeg'\\'': corrupted size vs. prev_size: 0x0000000042ea35f0 ***' >&2",
        "echo '======= Backtrace: =========' >&2",
        'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "[0x39311$i]" >&2; done',
        "echo '======= Memory map: ========' >&2",
        'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "0400$i-0511d000 rw-p 00000000 00:00 0 " >&2; done',
        'kill -ABRT $$',
      ].join('\n'),
    );
    await chmod(fake, 0o755);
    const error = await runFfmpeg(fake, []).then(() => assert.fail('the fake should crash'), (failure: unknown) => failure);
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.exitSignal, 'SIGABRT');
    assert.deepEqual(error.stderrTail, [
      "*** Error in `ffmpeg': corrupted size vs. prev_size: 0x0000000042ea35f0 ***",
      '======= Backtrace: =========',
      '======= Memory map: ========',
    ]);
  });

  test('a run whose position stops moving is killed after stallTimeoutMs', async () => {
    const { ffmpegPath } = await testToolchain();
    // A named pipe that nobody writes: ffmpeg waits on it for ever, as on an input that never comes.
    const fifo = path.join(dir, 'never.fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const error = await runFfmpeg(ffmpegPath, ['-y', '-f', 'rawvideo', '-s', '64x64', '-i', fifo, '-f', 'null', '-'], {
      stallTimeoutMs: 1_500,
    }).then(() => assert.fail('the run should be stopped'), (failure: unknown) => failure);
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.stalledMs, 1_500);
    assert.match(error.message, /^ffmpeg made no progress for 1\.5 s and was killed/);
    assert.ok(Date.now() - started < 5_000, `stopped after ${Date.now() - started} ms`);
  });

  test('a run that keeps moving is not stopped by stallTimeoutMs', async () => {
    const { ffmpegPath } = await testToolchain();
    await runFfmpeg(ffmpegPath, ['-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=64x64:r=24:d=3', '-f', 'null', '-'], { stallTimeoutMs: 1_500 });
  });

  test('ffmpeg runs at the niceness, in the scheduling class and on the CPUs asked for, every thread of it', async () => {
    const { ffmpegPath } = await testToolchain();
    const cpus = allowedCpus().slice(-1);
    const asked = [
      { niceness: 10, scheduling: {}, policy: schedOther, cpus: allowedCpus() },
      { niceness: 19, scheduling: { idle: true, cpus }, policy: schedIdle, cpus },
    ];
    for (const { niceness, scheduling, policy, cpus: expectedCpus } of asked) {
      const controller = new AbortController();
      let looked!: () => void;
      const reported = new Promise<void>((resolve) => (looked = resolve));
      const run = runFfmpeg(ffmpegPath, threadedRun, { signal: controller.signal, niceness, scheduling, onProgress: () => looked() });
      await reported;
      const [pid] = ffmpegChildren(process.pid);
      assert.ok(pid, 'the ffmpeg is a child of this process');
      const threads = readdirSync(`/proc/${pid}/task`).map((thread) => {
        const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
        const status = readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8');
        // Some x264 builds (the npm package's) lower their helper threads' priority by 10 more, up to 19.
        const threadNiceness = Number(statField(stat, 19));
        return {
          niceness: Number(thread) !== pid && threadNiceness === Math.min(19, niceness + 10) ? niceness : threadNiceness,
          policy: Number(statField(stat, 41)),
          cpus: parseCpuList(/^Cpus_allowed_list:\s*(\S+)$/m.exec(status)![1]),
        };
      });
      assert.ok(threads.length > 1, `ffmpeg runs ${threads.length} thread(s)`);
      assert.deepEqual(threads, threads.map(() => ({ niceness, policy, cpus: expectedCpus })), JSON.stringify(scheduling));
      controller.abort(new Error('seen'));
      await assert.rejects(run, /seen/);
    }
  });

  test('ffmpeg dies with the process that started it, even when that one is killed with SIGKILL', async () => {
    const { ffmpegPath } = await testToolchain();
    const parent = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/ffmpeg-parent.ts'), ffmpegPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let ffmpeg: number | undefined;
    try {
      const lines = createInterface({ input: parent.stdout! });
      await new Promise<void>((resolve, reject) => {
        lines.once('line', (line) => (line === 'running' ? resolve() : reject(new Error(`the parent said ${line}`))));
        parent.once('exit', (code) => reject(new Error(`the parent exited with ${code}`)));
      });
      [ffmpeg] = ffmpegChildren(parent.pid!);
      assert.ok(ffmpeg, 'the parent runs an ffmpeg');
      parent.kill('SIGKILL');
      const killedAt = Date.now();
      while (isRunning(ffmpeg) && Date.now() - killedAt < 1_000) await sleep(20);
      assert.equal(isRunning(ffmpeg), false, `ffmpeg ${ffmpeg} still runs ${Date.now() - killedAt} ms after its parent was killed`);
    } finally {
      parent.kill('SIGKILL');
      if (ffmpeg && isRunning(ffmpeg)) process.kill(ffmpeg, 'SIGKILL'); // an orphan left by a failure
    }
  });
});

describe('outTimeSeconds', () => {
  test('reads out_time_us and the misnamed out_time_ms, both in microseconds', () => {
    assert.equal(outTimeSeconds('out_time_us=1500000'), 1.5);
    assert.equal(outTimeSeconds('out_time_ms=2000000'), 2);
  });

  test('ignores other keys and values that say nothing yet', () => {
    assert.equal(outTimeSeconds('out_time_us=N/A'), undefined);
    assert.equal(outTimeSeconds('out_time_us=-9223372036854775807'), undefined);
    assert.equal(outTimeSeconds('out_time=00:00:01.500000'), undefined);
    assert.equal(outTimeSeconds('progress=end'), undefined);
  });
});

describe('allowedCpus and parseCpuList', () => {
  test('a kernel CPU list reads as its CPUs in order; anything else is not one', () => {
    assert.deepEqual(parseCpuList('0-3,8,10-11'), [0, 1, 2, 3, 8, 10, 11]);
    assert.deepEqual(parseCpuList('5'), [5]);
    assert.equal(parseCpuList(''), undefined);
    assert.equal(parseCpuList('0-a'), undefined);
  });

  test('this process may run on as many CPUs as availableParallelism counts', () => {
    assert.equal(allowedCpus().length, availableParallelism());
  });
});
