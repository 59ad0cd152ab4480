import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { UpstreamEngineOptions } from '../../src/engines/upstream/upstream-engine-options.js';
import { PollScheduler } from '../../src/engines/upstream/poll-scheduler.js';
import type { DownloadOptions } from '../../src/engines/upstream/result-mirror.js';
import type { ModelId } from '../../src/models/model.js';
import { modelById } from '../../src/models/registry.js';
import { validateRequest } from '../../src/models/validate-request.js';
import type { EngineJob } from '../../src/spec/engine.js';
import { makeVideo, testToolchain } from './media-fixtures.js';

/**
 * What the tests of upstream engines against their stubs share: the video a stub serves, engine
 * options that make a test quick, jobs in fresh work directories, and the error of a failure.
 */

/** A one-second video, small, for a stub to serve as every task's result. */
export async function stubResultVideo(root: string): Promise<Buffer> {
  const file = await makeVideo(await testToolchain(), path.join(root, 'stub-result.mp4'), { width: 160, height: 96, seconds: 1, audio: false });
  return readFile(file);
}

/** The test's result downloader: a plain fetch to a file, with the engine's headers (the server wires a guarded one). */
export async function downloadToFile(url: string, file: string, options: DownloadOptions = {}): Promise<void> {
  const response = await fetch(url, { headers: options.headers, signal: options.signal });
  if (!response.ok) throw new Error(`HTTP ${response.status} from the result URL`);
  await writeFile(file, Buffer.from(await response.arrayBuffer()));
}

/**
 * Options of an engine that uses `stub`: polls every 10 to 20 ms, on a timer of its own so that
 * tests do not wait on each other, and gives up on an answer after 2 s.
 */
export function quickEngineOptions(stub: { apiKey?: string; url: string }): UpstreamEngineOptions {
  return {
    apiKey: stub.apiKey,
    baseUrl: stub.url,
    downloadResult: downloadToFile,
    poll: { initialMs: 10, maxMs: 20 },
    scheduler: new PollScheduler(),
    requestTimeoutMs: 2000,
  };
}

/** A job of `model` for `body`, validated as the API does, working in `workDir`. */
export function jobIn(workDir: string, model: ModelId, body: Record<string, unknown>, seed: number, taskId = `task-${seed}`): EngineJob {
  return { taskId, model, request: validateRequest(modelById(model), body), seed, media: {}, workDir };
}

/** Makes jobs, each in a fresh workDir under `root`, with `defaultSeed` unless another is given. */
export function jobMaker(root: string, defaultSeed: number) {
  return async (model: ModelId, body: Record<string, unknown>, seed = defaultSeed): Promise<EngineJob> =>
    jobIn(await mkdtemp(path.join(root, 'job-')), model, body, seed);
}

/** The error `promise` rejects with; a test fails when it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (error: unknown) => error,
  );
}
