import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { wan14bProfile } from '../../src/engines/open-wan/wan-profile.js';
import { translateRequest } from '../../src/engines/openai-videos/translate-request.js';
import { checkpointOf } from '../../src/engines/openai-videos/wan-checkpoints.js';
import type { ModelId } from '../../src/models/model.js';
import { modelById } from '../../src/models/registry.js';
import { validateRequest } from '../../src/models/validate-request.js';

/**
 * Our request → the form of `POST /v1/videos`, field by field, from the fixtures in
 * test/fixtures/openai-videos/: each names the engine's checkpoint, the request as a client
 * sends it, the seed and the input pictures' sizes, and the exact form and warnings expected.
 */
interface Fixture {
  name: string;
  target: { engine: string; model: string; steps?: number };
  model: ModelId;
  request: Record<string, unknown>;
  seed: number;
  inputs: Record<string, [number, number]>;
  expect: { fields: Record<string, string>; inputReference?: string; warnings: string[] };
}

const folder = path.resolve(import.meta.dirname, '../fixtures/openai-videos');

for (const file of readdirSync(folder).filter((name) => name.endsWith('.json')).sort()) {
  const fixture = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as Fixture;
  test(`${file}: ${fixture.name}`, () => {
    const request = validateRequest(modelById(fixture.model), fixture.request);
    const form = translateRequest(
      { ...fixture.target, profile: checkpointOf(fixture.target.model)?.profile ?? wan14bProfile },
      fixture.model,
      request,
      fixture.seed,
      (field) => {
        const [width, height] = fixture.inputs[field];
        return { width, height };
      },
    );
    assert.deepEqual(form.fields, fixture.expect.fields);
    assert.deepEqual(Object.keys(form.fields), Object.keys(fixture.expect.fields), 'the fields go in this order');
    assert.equal(form.inputReference, fixture.expect.inputReference);
    assert.deepEqual(form.warnings, fixture.expect.warnings);
    // Pure: the same input gives the same form.
    assert.deepEqual(
      translateRequest({ ...fixture.target, profile: checkpointOf(fixture.target.model)?.profile ?? wan14bProfile }, fixture.model, request, fixture.seed, (field) => {
        const [width, height] = fixture.inputs[field];
        return { width, height };
      }),
      form,
    );
  });
}

test('the checkpoint names which models a server carries out, and at what frame rate', () => {
  assert.deepEqual(checkpointOf('Wan-AI/Wan2.2-T2V-A14B-Diffusers')?.models, ['wan2.7-t2v']);
  assert.deepEqual(checkpointOf('Wan-AI/Wan2.2-I2V-A14B-Diffusers')?.models, ['wan2.7-i2v']);
  assert.deepEqual(checkpointOf('Wan-AI/Wan2.2-TI2V-5B-Diffusers')?.models, ['wan2.7-t2v', 'wan2.7-i2v']);
  assert.equal(checkpointOf('Wan-AI/Wan2.2-TI2V-5B-Diffusers')?.profile.fps, 24);
  assert.deepEqual(checkpointOf('Wan-AI/Wan2.1-T2V-1.3B-Diffusers')?.profile.sizes, [{ width: 832, height: 480 }, { width: 480, height: 832 }]);
  assert.equal(checkpointOf('Qwen/Qwen-Image'), undefined);
  assert.equal(checkpointOf('Wan-AI/Wan2.2-S2V-14B'), undefined, 'speech-to-video is not served over /v1/videos here');
});
