import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { modelById, modelIds } from '../../src/models/registry.js';
import type { ModelId } from '../../src/models/model.js';
import { validateRequest } from '../../src/models/validate-request.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus, LocalMedia, StatusContext } from '../../src/spec/engine.js';
import { tempDir } from './temp-dir.js';

/**
 * What every engine must do, whatever carries the work out. Register the suite in an engine's
 * test file with a factory for the engine and one for a small, quick job in a given workDir.
 */
export function runEngineConformance(
  name: string,
  makeEngine: () => Engine | Promise<Engine>,
  makeJob: (workDir: string) => EngineJob | Promise<EngineJob>,
  {
    timeoutMs = 60_000,
    /** The work goes on without this process (`survivesRestart`): another one resumes it from the operation alone. */
    resumable = false,
  } = {},
): void {
  describe(`engine conformance: ${name}`, () => {
    const root = tempDir('wan-conformance-');
    const freshJob = async () => makeJob(await mkdtemp(path.join(root, 'job-')));

    test('the engine names its kind and the models it carries out', async () => {
      const engine = await makeEngine();
      const job = await freshJob();
      assert.ok(typeof engine.kind === 'string' && engine.kind !== '', 'kind');
      assert.ok(engine.models.length > 0, 'at least one model');
      for (const model of engine.models) assert.ok(modelIds.includes(model), `${model} is a model`);
      assert.ok(engine.models.includes(job.model), `the conformance job's model ${job.model} is one it carries out`);
      assert.ok(Number.isInteger(engine.capacity) && engine.capacity >= 0, 'capacity');
    });

    test('start returns plain JSON, and status accepts the copy that went through JSON', async () => {
      const engine = await makeEngine();
      const job = await freshJob();
      const operation = await engine.start(job);
      const copy = JSON.parse(JSON.stringify(operation)) as EngineOperation;
      assert.deepEqual(copy, operation, 'the operation survives JSON.stringify / JSON.parse unchanged');
      const first = await engine.status(copy, { workDir: job.workDir });
      assert.ok(first.state === 'running' || first.state === 'succeeded', `status of a fresh copy: ${shown(first)}`);
      const last = await waitForEnd(engine, copy, { workDir: job.workDir }, timeoutMs);
      assert.equal(last.state, 'succeeded', shown(last));
    });

    if (resumable) {
      test('status needs only the operation: with the job\'s input files gone, it ends in a fresh workDir', async () => {
        const engine = await makeEngine();
        assert.equal(engine.survivesRestart, true);
        const job = await freshJob();
        const operation = JSON.parse(JSON.stringify(await engine.start(job))) as EngineOperation;
        for (const media of Object.values(job.media)) await rm(media.path, { force: true });
        const context = { workDir: await mkdtemp(path.join(root, 'resumed-')) };
        const last = await waitForEnd(engine, operation, context, timeoutMs);
        assert.equal(last.state, 'succeeded', shown(last));
        if (last.state !== 'succeeded') return;
        for (const video of last.videos) {
          assert.ok(!path.relative(context.workDir, video.path).startsWith('..'), `${video.path} is in the new workDir`);
        }
      });
    }

    test('status ends in succeeded with an mp4 inside workDir; progress stays in 0..100 and never goes back', async () => {
      const engine = await makeEngine();
      const job = await freshJob();
      const operation = await engine.start(job);
      const progress: number[] = [];
      const last = await waitForEnd(engine, operation, { workDir: job.workDir }, timeoutMs, (percent) => progress.push(percent));
      assert.equal(last.state, 'succeeded', shown(last));
      for (const percent of progress) assert.ok(percent >= 0 && percent <= 100, `progress ${percent} out of range`);
      assert.deepEqual([...progress].sort((a, b) => a - b), progress, `progress went back: ${progress.join(', ')}`);
      if (last.state !== 'succeeded') return;
      assert.ok(last.videos.length > 0, 'at least one video');
      for (const video of last.videos) {
        assert.equal(video.type, 'mp4');
        const relative = path.relative(job.workDir, video.path);
        assert.ok(path.isAbsolute(video.path) && !relative.startsWith('..'), `${video.path} is outside ${job.workDir}`);
        assert.equal(await boxType(video.path), 'ftyp', `${video.path} does not start like an MP4 file`);
      }
      assert.doesNotThrow(() => JSON.stringify(last.extra), 'extra is JSON');
    });

    test('cancel of an operation that ended does not throw', async () => {
      const engine = await makeEngine();
      const job = await freshJob();
      const operation = await engine.start(job);
      await waitForEnd(engine, operation, { workDir: job.workDir }, timeoutMs);
      await engine.cancel(operation);
      await engine.cancel(operation);
    });

    test('an unknown or garbage operation is lost or failed, and nothing throws', async () => {
      const engine = await makeEngine();
      const job = await freshJob();
      const garbage: EngineOperation[] = [
        {},
        { engine: engine.name },
        { engine: engine.name, renderId: 'no-such-render', id: 'no-such-id', taskId: 'no-such-task' },
        { engine: engine.name, renderId: '00000000-0000-4000-8000-000000000000' },
        { id: 42, nested: { deep: [1, null, 'x'] } },
        { engine: 42, renderId: {}, id: [] },
      ];
      for (const operation of garbage) {
        const status = await engine.status(operation, { workDir: job.workDir });
        assert.ok(status.state === 'lost' || status.state === 'failed', `${JSON.stringify(operation)}: ${shown(status)}`);
        await engine.cancel(operation);
        await engine.changed?.(operation, 50);
      }
    });
  });
}

/** Asks for the status until it is terminal, waiting with `changed` when the engine has it. */
export async function waitForEnd(
  engine: Engine,
  operation: EngineOperation,
  context: StatusContext,
  timeoutMs: number,
  onProgress: (percent: number) => void = () => {},
): Promise<EngineStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await engine.status(operation, { workDir: context.workDir, signal: context.signal });
    if (status.state !== 'running') return status;
    onProgress(status.progressPercent);
    assert.ok(Date.now() < deadline, `still running after ${timeoutMs} ms`);
    const waitMs = Math.min(200, status.nextCheckMs ?? 200);
    if (engine.changed) await engine.changed(operation, waitMs);
    else await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

function shown(status: EngineStatus): string {
  return status.state === 'failed' ? `failed: ${status.error.message}` : JSON.stringify(status);
}

/** The type of the first ISO-BMFF box of a file: `ftyp` for any MP4. */
async function boxType(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(8);
    await handle.read(header, 0, 8, 0);
    return header.subarray(4, 8).toString('latin1');
  } finally {
    await handle.close();
  }
}

/**
 * A job as the worker builds it: the body validated by the model (defaults applied) and every
 * media URL of it "downloaded" to the file given for its field (`image_url`, `media[0].url` …).
 */
export function engineJob(
  model: ModelId,
  body: Record<string, unknown>,
  { workDir, files = {}, seed = 1 }: { workDir: string; files?: Record<string, string>; seed?: number },
): EngineJob {
  const definition = modelById(model);
  const request = validateRequest(definition, body);
  const media: Record<string, LocalMedia> = {};
  for (const reference of definition.mediaReferences(request)) {
    const file = files[reference.field];
    assert.ok(file, `no file given for ${reference.field}`);
    media[reference.field] = { ...reference, path: file };
  }
  return { taskId: `test-${model}-${seed}`, model, request, seed, media, workDir };
}
