import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { probeMedia } from '../../src/media/probe.js';
import { type CliRun, runWan } from '../support/cli-run.js';
import { closedPort, startStubServer, taskResult } from '../support/stub-api-server.js';
import { startE2eEnvironment } from '../support/e2e-environment.js';

/** `wan t2v|i2v|r2v|videoedit|result|wait` against the real server process, and its exit codes. */
const { toolchain, mediaDir, media, key, server, outDir } = await startE2eEnvironment();
const env = { WAN_API_URL: server.url, WAN_API_KEY: key };
const fast = ['--poll-interval-ms', '150'];
const unreachable = `http://127.0.0.1:${await closedPort()}`;

function explain(run: CliRun): string {
  return `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

async function probe(file: string) {
  return probeMedia(toolchain, file);
}

describe('each model from the shell', { concurrency: 4 }, () => {
  test('t2v --wait -o: a progress bar on stderr, the video URL on stdout, the file saved', async () => {
    const file = path.join(outDir, 't2v.mp4');
    const run = await runWan(['t2v', 'a lighthouse at dusk', '--size', '1280*720', '--duration', '2', '--seed', '7', '--wait', '-o', file, ...fast], env);
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stdout.trim(), /^http:\/\/127\.0\.0\.1:\d+\/v3\/files\/videos\/.+\.mp4\?/);
    assert.match(run.stderr, /\[█+\] 100%\s+SUCCEED/);
    assert.match(run.stderr, /saved .*t2v\.mp4 \(\d+ bytes\)/);
    const info = await probe(file);
    assert.deepEqual([info.video?.width, info.video?.height], [1280, 720]);
  });

  test('i2v without --wait prints the task id; wan wait -o and wan result pick it up', async () => {
    const submitted = await runWan(['i2v', '--image-url', media.url('square.png'), '--resolution', '720P', '--duration', '2'], env);
    assert.equal(submitted.code, 0, explain(submitted));
    const taskId = submitted.stdout.trim();
    assert.match(taskId, /^[\w-]{8,}$/);
    const file = path.join(outDir, 'i2v.mp4');
    const waited = await runWan(['wait', taskId, '-o', file, '--json', ...fast], env);
    assert.equal(waited.code, 0, explain(waited));
    const result = JSON.parse(waited.stdout);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
    assert.equal(result.task.task_type, 'WAN_2_7_I2V');
    assert.deepEqual([(await probe(file)).video?.width, (await probe(file)).video?.height], [960, 960]);
    const shown = await runWan(['result', taskId], env);
    assert.equal(shown.code, 0, explain(shown));
    assert.match(shown.stdout, new RegExp(`^${taskId}\\s+SUCCEED\\s+100%`));
    assert.match(shown.stdout, /\/v3\/files\/videos\//);
  });

  test('r2v: repeated --media type=url,voice=url and --no-audio reach the server', async () => {
    const file = path.join(outDir, 'r2v.mp4');
    const run = await runWan(
      [
        'r2v', 'character1 waves to character2',
        '--media', `reference_image=${media.url('square.png')},voice=${media.url('voice.wav')}`,
        '--media', `type=reference_video,url=${media.url('clip.mp4')}`,
        '--size', '960*960', '--duration', '2', '--shot-type', 'multi', '--no-audio', '-o', file, '--json', ...fast,
      ],
      env,
    );
    assert.equal(run.code, 0, explain(run));
    assert.equal(JSON.parse(run.stdout).task.task_type, 'WAN_2_7_R2V');
    const info = await probe(file);
    assert.deepEqual([info.video?.width, info.video?.height], [960, 960]);
    assert.equal(info.audio, undefined, '--no-audio: no audio stream');
  });

  test('videoedit: --ratio and --duration shape the output', async () => {
    const file = path.join(outDir, 'videoedit.mp4');
    const run = await runWan(
      ['videoedit', 'make it clay', '--video-url', media.url('clip.mp4'), '--resolution', '720P', '--ratio', '1:1', '--duration', '2', '-o', file, ...fast],
      env,
    );
    assert.equal(run.code, 0, explain(run));
    const info = await probe(file);
    assert.deepEqual([info.video?.width, info.video?.height], [960, 960]);
    assert.ok(Math.abs(info.durationSeconds - 2) < 0.15);
  });
});

describe('exit codes', { concurrency: 6 }, () => {
  test('2: a request that breaks a rule is refused locally, naming the flag and the rule, before anything is sent', async () => {
    // The URL leads nowhere: had anything been sent, the exit code would be 4.
    const run = await runWan(['t2v', 'x', '--duration', '20', '--size', '1280x720'], { WAN_API_URL: unreachable, WAN_API_KEY: 'k' });
    assert.equal(run.code, 2, explain(run));
    assert.match(run.stderr, /--size\): size must be one of .*did you mean "1280\*720"/);
    assert.match(run.stderr, /duration must be an integer between 2 and 15, got 20/);
    const missing = await runWan(['i2v', '--prompt', 'no image'], { WAN_API_URL: unreachable, WAN_API_KEY: 'k' });
    assert.equal(missing.code, 2, explain(missing));
    assert.match(missing.stderr, /one of image_url and first_clip_url is required/);
  });

  test('2: usage errors, a bad --media spec, a path that is no file, no API key', async () => {
    const runs = await Promise.all([
      runWan(['t2v', 'x', '--sise', '1280*720'], env),
      runWan(['r2v', 'x', '--media', 'colour=https://a/b.png'], env),
      runWan(['t2v', 'x', '--audio-url', './no/such/file.wav'], env),
      runWan(['t2v', 'x'], { WAN_API_URL: server.url }),
    ]);
    for (const run of runs) assert.equal(run.code, 2, explain(run));
    assert.match(runs[0].stderr, /unknown option '--sise'/);
    assert.match(runs[1].stderr, /unknown key "colour"; keys: url, type, reference_voice/);
    assert.match(runs[2].stderr, /audio_url: ".\/no\/such\/file.wav" is neither an http\(s\) URL nor a file/);
    assert.match(runs[3].stderr, /no API key/);
  });

  test('3: the task failed (its reason on stderr, the Task Result with --json)', async () => {
    const run = await runWan(['i2v', '--image-url', media.url('missing.png'), '--resolution', '720P', '--duration', '2', '--wait', '--json', ...fast], env);
    assert.equal(run.code, 3, explain(run));
    assert.match(run.stderr, /task .+ failed: .*image_url.* \(MEDIA_DOWNLOAD_FAILED\)/);
    assert.equal(JSON.parse(run.stdout).task.status, 'TASK_STATUS_FAILED');
    const shown = await runWan(['result', JSON.parse(run.stdout).task.task_id], env);
    assert.equal(shown.code, 3, explain(shown));
    assert.match(shown.stdout, /FAILED/);
  });

  test('4: the server cannot be reached', async () => {
    const run = await runWan(['result', 'some-task'], { WAN_API_URL: unreachable, WAN_API_KEY: key });
    assert.equal(run.code, 4, explain(run));
    assert.match(run.stderr, /cannot reach the server \(ECONNREFUSED\)/);
  });

  test('1: other API errors (unknown task, revoked or wrong key)', async () => {
    const [unknown, wrongKey] = await Promise.all([
      runWan(['result', 'no-such-task'], env),
      runWan(['wait', 'no-such-task', '--api-key', 'wan_wrong'], env),
    ]);
    assert.equal(unknown.code, 1, explain(unknown));
    assert.match(unknown.stderr, /\(404 TASK_NOT_FOUND\)/);
    assert.equal(wrongKey.code, 1, explain(wrongKey));
    assert.match(wrongKey.stderr, /\(403 INVALID_API_KEY\)/);
  });

  test('a local file is uploaded to the server and used: the task succeeds', async () => {
    const file = path.join(outDir, 'i2v-local.mp4');
    const run = await runWan(['i2v', '--image-url', path.join(mediaDir, 'square.png'), '--resolution', '720P', '--duration', '2', '--wait', '-o', file, ...fast], env);
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual([(await probe(file)).video?.width, (await probe(file)).video?.height], [960, 960]);
  });

  test('1: a local file given to a server without uploads: a clear message', async () => {
    const stub = await startStubServer();
    const run = await runWan(['i2v', '--image-url', path.join(mediaDir, 'square.png'), '--duration', '2'], { WAN_API_URL: stub.url, WAN_API_KEY: 'k' });
    assert.equal(run.code, 1, explain(run));
    assert.match(run.stderr, /this server does not accept uploads \(404\): pass a URL/);
  });
});

test('local files are uploaded first (POST /v3/uploads), and their URLs sent in the request', async () => {
  const stub = await startStubServer();
  const uploads = stub.enableUploads();
  stub.script('POST /v3/async/wan2.7-r2v', { json: { task_id: 'stub-task' } });
  const image = path.join(outDir, 'local face.png');
  await writeFile(image, await readFile(path.join(mediaDir, 'square.png')));
  const run = await runWan(
    ['r2v', 'character1 sings', '--media', `reference_image=${image},voice=${path.join(mediaDir, 'voice.wav')}`, '--json'],
    { WAN_API_URL: stub.url, WAN_API_KEY: 'stub-key' },
  );
  assert.equal(run.code, 0, explain(run));
  assert.deepEqual(JSON.parse(run.stdout), { task_id: 'stub-task' });
  const files = [...uploads.values()];
  assert.deepEqual(files.map((file) => [file.name, file.contentType]), [['local face.png', 'image/png'], ['voice.wav', 'audio/wav']]);
  assert.deepEqual(files[0].body, await readFile(image));
  const [submitted] = stub.requestsTo('POST /v3/async/wan2.7-r2v');
  const body = JSON.parse(submitted.body.toString());
  assert.match(body.media[0].url, new RegExp(`^${stub.url}/uploaded/.+/local%20face\\.png$`));
  assert.match(body.media[0].reference_voice, /\/voice\.wav$/);
  assert.equal(body.media[0].type, 'reference_image');
  assert.equal(submitted.headers.authorization, 'Bearer stub-key');
});

test('5: --timeout gives up waiting; 130: Ctrl-C stops waiting', async () => {
  // A task that never ends, so that the timing cannot race a fast render.
  const stub = await startStubServer();
  stub.script('GET /v3/async/task-result', { json: taskResult('endless', 'TASK_STATUS_PROCESSING', { progress: 42, eta: 9 }) });
  const stubEnv = { WAN_API_URL: stub.url, WAN_API_KEY: 'k' };
  const taskId = 'endless';
  const timedOut = await runWan(['wait', taskId, '--timeout', '0.5', ...fast], stubEnv);
  assert.equal(timedOut.code, 5, explain(timedOut));
  assert.match(timedOut.stderr, /42%\s+PROCESSING\s+ETA 0:09/);
  assert.match(timedOut.stderr, new RegExp(`stopped waiting; task ${taskId} goes on`));

  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'wait', taskId, ...fast], {
    cwd: root,
    env: { ...process.env, ...stubEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let interrupted = false;
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    // At the first progress line the command is waiting: one Ctrl-C.
    if (!interrupted && /%\s+PROCESSING/.test(stderr)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopped waiting/);
});

test('a server-side 400 is bad input (2); a submit answered 500 is not repeated (1)', async () => {
  const stub = await startStubServer();
  const stubEnv = { WAN_API_URL: stub.url, WAN_API_KEY: 'k' };
  stub.script('POST /v3/async/wan2.7-t2v', {
    status: 400,
    json: { code: 400, reason: 'INVALID_REQUEST_BODY', message: 'prompt: refused by the provider', metadata: { field: 'prompt' } },
  });
  const refused = await runWan(['t2v', 'x'], stubEnv);
  assert.equal(refused.code, 2, explain(refused));
  assert.match(refused.stderr, /prompt: refused by the provider \(400 INVALID_REQUEST_BODY\)/);
  stub.script('POST /v3/async/wan2.7-t2v', { status: 500, json: { code: 500, reason: 'CREATE_TASK_FAILED', message: 'disk full', metadata: {} } });
  const failed = await runWan(['t2v', 'x'], stubEnv);
  assert.equal(failed.code, 1, explain(failed));
  assert.equal(stub.requestsTo('POST /v3/async/wan2.7-t2v').length, 2, 'one request each run');
});

test('wan --help lists the client commands beside serve and keys', async () => {
  const top = await runWan(['--help']);
  assert.equal(top.code, 0, explain(top));
  for (const command of ['t2v', 'i2v', 'r2v', 'videoedit', 'result', 'wait', 'serve', 'keys']) {
    assert.match(top.stdout, new RegExp(`\\n  ${command}\\b`), command);
  }
});
