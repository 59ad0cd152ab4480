import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { modelCommand } from '../../src/cli/client-commands.js';
import { bodyFromFlags, modelFlags } from '../../src/cli/model-flags.js';
import type { ModelId } from '../../src/client/types.js';
import { buildOpenApiDocument } from '../../src/models/openapi.js';
import { modelById } from '../../src/models/registry.js';
import { validateRequest } from '../../src/models/validate-request.js';
import { modelsOf } from '../../web/playground/api-models.js';
import { curlCommand, wanCommand } from '../../web/playground/commands.js';

/**
 * "Copy as curl" and "copy as wan command" give back the very request the page sent: each command
 * is split into words by a real shell, and the wan words are parsed by the CLI's own flags (the
 * curl body is read from its -d word). Values a shell would mangle are in every body.
 */

const baseUrl = 'http://127.0.0.1:8080';

/** Valid requests of every model, with quotes, `$`, globs, newlines, commas in URLs, a leading dash. */
const bodies: Record<ModelId, Record<string, unknown>> = {
  'wan2.7-t2v': {
    prompt: `It's a "paper" boat, $HOME \`ls\` *.mp4\nsecond line`,
    negative_prompt: 'blur; rm -rf /',
    size: '1280*720',
    duration: 2,
    prompt_extend: false,
    watermark: true,
    seed: 42,
    extra: { webhook: { url: 'https://example.com/hook?a=1&b=2' } },
  },
  'wan2.7-i2v': {
    image_url: 'https://example.com/first.png?expires=1&signature=ab',
    last_frame_url: 'https://example.com/last.png',
    resolution: '720P',
    duration: 3,
  },
  'wan2.7-r2v': {
    prompt: '-character1 waves',
    media: [
      { type: 'reference_image', url: 'https://example.com/a.png' },
      { url: 'https://example.com/b.mp4?sig=a,b=c', type: 'reference_video', reference_voice: 'https://example.com/v.wav' },
    ],
    shot_type: 'multi',
    audio: false,
  },
  'wan2.7-videoedit': {
    prompt: 'Convert the entire scene to clay style',
    video_url: 'https://example.com/input.mp4',
    ratio: '16:9',
    audio_setting: 'origin',
    duration: 0,
  },
};

/** The words a POSIX shell makes of a command line, by running `printf` in place of its program. */
async function shellWords(command: string): Promise<string[]> {
  const program = command.split(' ')[0];
  const { stdout } = await promisify(execFile)('sh', ['-c', `printf '%s\\0' ${command.slice(program.length + 1)}`], {
    env: { PATH: process.env.PATH, WAN_API_KEY: 'wan_from_env' },
  });
  return stdout.split('\0').slice(0, -1);
}

/** What the `wan` CLI makes of the words: the request body it would send, and its options. */
async function parsedByWan(modelId: ModelId, words: string[]) {
  const command = modelCommand(modelId).exitOverride();
  let parsed: { prompt?: string; options: Record<string, unknown> } | undefined;
  command.action((prompt: string | undefined, options: Record<string, unknown>) => {
    parsed = { prompt, options };
  });
  await command.parseAsync(words, { from: 'user' });
  const options: Record<string, unknown> = { ...parsed!.options, ...(parsed!.prompt === undefined ? {} : { prompt: parsed!.prompt }) };
  return { body: bodyFromFlags(modelFlags(modelById(modelId)), options), options };
}

const models = modelsOf(buildOpenApiDocument() as never);

test('the models and their schemas are read from the OpenAPI document, in its order', () => {
  assert.deepEqual(
    models.map((model) => model.id),
    Object.keys(bodies),
  );
  for (const model of models) assert.deepEqual(model.schema, modelById(model.id as ModelId).schema);
});

for (const model of models) {
  const modelId = model.id as ModelId;
  const body = bodies[modelId];

  test(`${modelId}: the wan command, as the shell splits it, is parsed by the CLI into the same request`, async () => {
    validateRequest(modelById(modelId), structuredClone(body));
    const command = wanCommand(baseUrl, modelId, model.schema, body);
    const [subcommand, ...words] = await shellWords(command);
    assert.equal(subcommand, modelId.replace('wan2.7-', ''));
    const parsed = await parsedByWan(modelId, words);
    assert.deepEqual(parsed.body, body, command);
    assert.equal(parsed.options.apiUrl, baseUrl);
  });

  test(`${modelId}: the curl command posts the same JSON to the model's endpoint, with the key from $WAN_API_KEY`, async () => {
    const command = curlCommand(baseUrl, modelId, body);
    const words = await shellWords(command);
    assert.equal(words[0], '-s');
    assert.equal(words[1], `${baseUrl}/v3/async/${modelId}`);
    assert.ok(words.includes('Authorization: Bearer wan_from_env'), words.join(' | '));
    assert.ok(words.includes('Content-Type: application/json'));
    assert.deepEqual(JSON.parse(words[words.indexOf('-d') + 1]), body);
  });
}

test('a prompt starting with "-" goes as --prompt, any other as the first argument', () => {
  const r2v = models.find((model) => model.id === 'wan2.7-r2v')!;
  assert.match(wanCommand(baseUrl, r2v.id, r2v.schema, { prompt: '-x', media: [] }), /^wan r2v --prompt -x /);
  assert.match(wanCommand(baseUrl, r2v.id, r2v.schema, { prompt: 'x', media: [] }), /^wan r2v x --api-url /);
});
