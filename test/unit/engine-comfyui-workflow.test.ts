import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { bindWorkflow, checkWorkflow, defaultWorkflowDirectory, loadWorkflow, variants, type Variant } from '../../src/engines/comfyui/comfyui-workflow.js';
import { planPrompt } from '../../src/engines/comfyui/plan-prompt.js';
import { wan14bProfile } from '../../src/engines/open-wan/wan-profile.js';
import type { ModelId } from '../../src/models/model.js';
import { modelById } from '../../src/models/registry.js';
import { validateRequest } from '../../src/models/validate-request.js';
import { EngineUnavailable } from '../../src/spec/engine.js';
import { tempDir } from '../support/temp-dir.js';

const shipped = Object.fromEntries(
  (Object.keys(variants) as Variant[]).map((variant) => [variant, loadWorkflow(variant, path.join(defaultWorkflowDirectory, variants[variant].file))]),
) as Record<Variant, ReturnType<typeof loadWorkflow>>;

describe('shipped workflows', () => {
  test('one per variant, each with the placeholders it needs, built on the Wan nodes of ComfyUI', () => {
    const nodeTypes = (variant: Variant) => new Set(Object.values(shipped[variant].nodes).map((node) => node.class_type));
    for (const variant of Object.keys(variants) as Variant[]) {
      for (const name of variants[variant].needs) assert.ok(shipped[variant].uses.has(name), `${variant} uses {{${name}}}`);
      assert.ok(nodeTypes(variant).has('SaveVideo'), `${variant} saves a video`);
      assert.ok(shipped[variant].samplers.length >= 1, `${variant} has a sampler for the progress`);
    }
    assert.ok(nodeTypes('i2v').has('WanImageToVideo'));
    assert.ok(nodeTypes('flf2v').has('WanFirstLastFrameToVideo'));
    assert.ok(nodeTypes('s2v').has('WanSoundImageToVideo') && nodeTypes('s2v').has('AudioEncoderEncode'));
    assert.ok(nodeTypes('r2v').has('WanVaceToVideo') && nodeTypes('r2v').has('TrimVideoLatent'));
    assert.ok(nodeTypes('videoedit').has('LoadVideo') && nodeTypes('videoedit').has('GetVideoComponents'));
    assert.equal(shipped.t2v.samplers.length, 2, 'Wan 2.2 A14B: the high-noise and low-noise experts');
    assert.ok(readdirSync(defaultWorkflowDirectory).length >= Object.keys(variants).length);
  });

  test('binding: a whole-value placeholder takes its type, one inside a text is written into it; links stay', () => {
    const workflow = checkWorkflow('t2v', 'inline.json', {
      '1': { class_type: 'CLIPTextEncode', inputs: { clip: ['2', 0], text: 'cinematic, {{prompt}}, {{negative_prompt}}' } },
      '3': { class_type: 'EmptyHunyuanLatentVideo', inputs: { width: '{{width}}', height: '{{ height }}', length: '{{length}}', batch_size: 1 } },
      '4': { class_type: 'KSampler', inputs: { seed: '{{seed}}' } },
      '5': { class_type: 'CreateVideo', inputs: { fps: '{{fps}}' } },
    });
    const bound = bindWorkflow(workflow, { prompt: 'a boat', negative_prompt: '', width: 1280, height: 720, length: 81, seed: 7, fps: 16 });
    assert.deepEqual(bound['1'].inputs, { clip: ['2', 0], text: 'cinematic, a boat, ' });
    assert.deepEqual(bound['3'].inputs, { width: 1280, height: 720, length: 81, batch_size: 1 });
    assert.equal(bound['4'].inputs.seed, 7);
    assert.equal(bound['5'].inputs.fps, 16);
    assert.deepEqual(workflow.samplers, ['4']);
  });

  test('a workflow that lacks a needed placeholder, uses an unknown one or one its variant has no value for, or is in the UI format, is refused', () => {
    const t2v = JSON.parse(readFileSync(shipped.t2v.file, 'utf8'));
    const withoutSeed = structuredClone(t2v);
    for (const node of Object.values(withoutSeed) as { inputs: Record<string, unknown> }[]) {
      for (const [key, value] of Object.entries(node.inputs)) if (value === '{{seed}}') node.inputs[key] = 1;
    }
    assert.throws(() => checkWorkflow('t2v', 'mine.json', withoutSeed), /mine\.json lacks \{\{seed\}\}, which a t2v workflow needs/);
    assert.throws(() => checkWorkflow('i2v', 'mine.json', t2v), /lacks \{\{first_frame\}\}/);
    const unknown = structuredClone(t2v);
    unknown['5'].inputs.text = '{{promt}}';
    assert.throws(() => checkWorkflow('t2v', 'mine.json', unknown), /uses \{\{promt\}\}, which is no placeholder/);
    const misplaced = structuredClone(t2v);
    misplaced['99'] = { class_type: 'LoadImage', inputs: { image: '{{last_frame}}' } };
    assert.throws(() => checkWorkflow('t2v', 'mine.json', misplaced), /\{\{last_frame\}\}, which a t2v task has no value for/);
    assert.throws(() => checkWorkflow('t2v', 'ui.json', { nodes: [], links: [] }), /API format/);
    assert.throws(() => checkWorkflow('t2v', 'empty.json', {}), /API format/);
    const file = path.join(tempDir(), 'broken.json');
    writeFileSync(file, '{nope');
    assert.throws(() => loadWorkflow('t2v', file), /cannot read the workflow/);
  });
});

/**
 * Our request → the workflow and its placeholders, field by field, from test/fixtures/comfyui/:
 * the variant, the values, which field's file fills each file placeholder, and the warnings.
 */
interface Fixture {
  name: string;
  model: ModelId;
  request: Record<string, unknown>;
  seed: number;
  inputs: Record<string, [number, number, number]>;
  expect: { variant: Variant; values: Record<string, unknown>; files: Record<string, string>; warnings: string[] };
}

const folder = path.resolve(import.meta.dirname, '../fixtures/comfyui');
const target = { engine: 'comfy', profile: wan14bProfile, workflows: shipped };
const inputsOf = (fixture: Pick<Fixture, 'inputs'>) => (field: string) => {
  const [width, height, seconds] = fixture.inputs[field];
  return { width, height, seconds };
};

describe('planning a prompt', () => {
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.json')).sort()) {
    const fixture = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as Fixture;
    test(`${file}: ${fixture.name}`, () => {
      const plan = planPrompt(target, fixture.model, validateRequest(modelById(fixture.model), fixture.request), fixture.seed, 'task-1', inputsOf(fixture));
      assert.equal(plan.workflow.variant, fixture.expect.variant);
      assert.deepEqual(plan.values, fixture.expect.values);
      assert.deepEqual(plan.files, fixture.expect.files);
      assert.deepEqual(plan.warnings, fixture.expect.warnings);
    });
  }

  test('what no workflow can do is refused for the next engine: a clip to continue, r2v without a reference image', () => {
    const plan = (model: ModelId, body: Record<string, unknown>) =>
      planPrompt(target, model, validateRequest(modelById(model), body), 1, 'task-1', inputsOf({ inputs: { first_clip_url: [640, 360, 3] } }));
    assert.throws(() => plan('wan2.7-i2v', { first_clip_url: 'https://cdn.example/clip.mp4', resolution: '720P' }), (error: Error) =>
      error instanceof EngineUnavailable && /cannot continue a clip/.test(error.message));
    assert.throws(() => plan('wan2.7-r2v', { prompt: 'character1', media: [{ type: 'reference_video', url: 'https://cdn.example/v.mp4' }] }), (error: Error) =>
      error instanceof EngineUnavailable && /needs a reference_image/.test(error.message));
  });

  test('an operator\'s videoedit workflow with {{reference_image}} takes reference_image_url, and cannot run without one', () => {
    const edit = structuredClone(JSON.parse(readFileSync(shipped.videoedit.file, 'utf8')));
    edit['30'] = { class_type: 'LoadImage', inputs: { image: '{{reference_image}}' } };
    edit['7'].inputs.reference_image = ['30', 0];
    const workflows = { ...shipped, videoedit: checkWorkflow('videoedit', 'edit.json', edit) };
    const plan = (body: Record<string, unknown>) =>
      planPrompt({ ...target, workflows }, 'wan2.7-videoedit', validateRequest(modelById('wan2.7-videoedit'), body), 1, 'task-1', inputsOf({ inputs: { video_url: [1280, 720, 4] } }));
    const withReference = plan({ video_url: 'https://cdn.example/in.mp4', reference_image_url: 'https://cdn.example/r.png', prompt: 'p' });
    assert.deepEqual(withReference.files, { input_video: 'video_url', reference_image: 'reference_image_url' });
    assert.ok(!withReference.warnings.some((warning) => warning.startsWith('reference_image_url')));
    assert.throws(() => plan({ video_url: 'https://cdn.example/in.mp4', prompt: 'p' }), /needs \{\{reference_image\}\} and the request gives none/);
  });
});
