import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { modelCommand, resultCommand, waitCommand } from '../../src/cli/client-commands.js';
import { bodyFromFlags, BadInput, flagName, modelFlags, parseItem, type FieldSchema } from '../../src/cli/model-flags.js';
import { formatProgress } from '../../src/cli/progress-bar.js';
import { models } from '../../src/models/registry.js';

/** The flags come from the model schemas; the SDK core stays free of Node and of server code. */

test('every field of every model schema is a flag of its command (booleans also as --no-…)', () => {
  for (const model of models) {
    const command = modelCommand(model.id);
    const flags = new Set(command.options.map((option) => option.long));
    for (const [field, schema] of Object.entries(model.schema.properties as Record<string, FieldSchema>)) {
      assert.ok(flags.has(flagName(field)), `${model.id}: no ${flagName(field)}`);
      if (schema.type === 'boolean') assert.ok(flags.has(`--no-${field.replaceAll('_', '-')}`), `${model.id}: no --no- form of ${field}`);
    }
  }
  assert.ok(modelCommand('wan2.7-r2v').options.some((option) => option.long === '--no-audio'));
  assert.ok(modelCommand('wan2.7-r2v').options.some((option) => option.long === '--shot-type'));
  assert.ok(modelCommand('wan2.7-videoedit').options.some((option) => option.long === '--ratio'));
});

test('flag values become the typed request body', () => {
  const r2v = models.find((model) => model.id === 'wan2.7-r2v')!;
  const flags = modelFlags(r2v);
  const body = bodyFromFlags(flags, {
    prompt: 'character1',
    duration: '5',
    seed: 'abc',
    audio: false,
    media: ['reference_image=https://a/x.png', 'reference_video=https://a/y.mp4,voice=https://a/v.wav', 'type=first_frame,url=https://a/f.png'],
    extra: '{"webhook":{"url":"https://hook"}}',
  });
  assert.deepEqual(body, {
    prompt: 'character1',
    duration: 5,
    seed: 'abc', // left as typed: validation then says "seed must be an integer"
    audio: false,
    media: [
      { type: 'reference_image', url: 'https://a/x.png' },
      { type: 'reference_video', url: 'https://a/y.mp4', reference_voice: 'https://a/v.wav' },
      { type: 'first_frame', url: 'https://a/f.png' },
    ],
    extra: { webhook: { url: 'https://hook' } },
  });
  const item = (r2v.schema.properties as Record<string, FieldSchema>).media.items!;
  assert.deepEqual(parseItem('media', 'url=https://a/b.png?x=1,y=2,type=reference_image', item), {
    url: 'https://a/b.png?x=1,y=2',
    type: 'reference_image',
  });
  assert.throws(() => parseItem('media', 'just-a-url', item), BadInput);
  assert.throws(() => bodyFromFlags(flags, { extra: '{not json' }), /--extra: not valid JSON/);
});

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

test('--help of every client command shows an example and the exit codes', () => {
  const commands = [...models.map((model) => modelCommand(model.id)), resultCommand(), waitCommand()];
  for (const command of commands) {
    const help = helpOf(command);
    assert.match(help, new RegExp(`Example:\\n  wan ${command.name()} `), command.name());
    assert.match(help, /Exit codes: 0 ok, 1 API error, 2 bad input, 3 task failed, 4 server unreachable, 5 --timeout passed/);
  }
});

test('the progress line shows the bar, percent, status and ETA', () => {
  const task = { task_id: 't', task_type: 'WAN_2_7_T2V', status: 'TASK_STATUS_PROCESSING', reason: '', eta: 75, progress_percent: 50 } as const;
  assert.equal(formatProgress(task, 10), '[█████░░░░░]  50%  PROCESSING  ETA 1:15');
  assert.equal(formatProgress({ ...task, status: 'TASK_STATUS_SUCCEED', progress_percent: 100, eta: 0 }, 4), '[████] 100%  SUCCEED');
});

test('the browser-safe core of the SDK imports no node: module and no server code at run time', async () => {
  const dir = path.resolve(import.meta.dirname, '../../src/client');
  for (const file of ['client.ts', 'errors.ts', 'types.ts', 'index.ts']) {
    const source = await readFile(path.join(dir, file), 'utf8');
    const imports = [...source.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)];
    for (const [statement, typeOnly, from] of imports) {
      assert.ok(!from.startsWith('node:'), `${file}: ${statement}`);
      if (!from.startsWith('./')) assert.ok(typeOnly, `${file} imports ${from} at run time: ${statement}`);
    }
  }
});
