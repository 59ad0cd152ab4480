import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { i2v } from '../../src/models/i2v.js';
import { r2v } from '../../src/models/r2v.js';
import { models } from '../../src/models/registry.js';
import { t2v } from '../../src/models/t2v.js';
import { videoedit } from '../../src/models/videoedit.js';
import { maxNestingDepth } from '../../src/models/validate-request.js';
import { accepts, refuses, withField, minimalBodies } from './models-assertions.js';

/** An object holding `levels` more levels of objects inside it. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

/** Rules that hold for every model: defaults, strict types, unknown fields, URLs, the body itself. */

describe('defaults', () => {
  const cases = [
    { model: t2v, defaults: { size: '1920*1080', duration: 5, prompt_extend: true, watermark: false } },
    { model: i2v, defaults: { resolution: '1080P', duration: 5, prompt_extend: true, watermark: false } },
    { model: r2v, defaults: { size: '1920*1080', duration: 5, shot_type: 'single', audio: true, watermark: false } },
    {
      model: videoedit,
      defaults: { resolution: '1080P', duration: 0, audio_setting: 'auto', prompt_extend: true, watermark: false },
    },
  ];
  for (const { model, defaults } of cases) {
    it(`${model.id} fills in ${Object.keys(defaults).join(', ')} and nothing else`, () => {
      const body = minimalBodies[model.id];
      assert.deepEqual(accepts(model, body), { ...body, ...defaults });
    });
  }

  it('keeps the values a request gives', () => {
    const body = { ...minimalBodies['wan2.7-t2v'], size: '1280*720', duration: 3, prompt_extend: false, watermark: true };
    assert.deepEqual(accepts(t2v, body), body);
  });

  it("leaves the caller's body as it was sent", () => {
    const body = structuredClone(minimalBodies['wan2.7-t2v']);
    accepts(t2v, body);
    assert.deepEqual(body, minimalBodies['wan2.7-t2v']);
  });
});

describe('strict types', () => {
  const base = minimalBodies['wan2.7-r2v'];
  const cases = [
    { field: 'duration', value: '5', message: 'duration must be an integer, got "5"' },
    { field: 'duration', value: 5.5, message: 'duration must be an integer, got 5.5' },
    { field: 'seed', value: null, message: 'seed must be an integer, got null' },
    { field: 'prompt', value: true, message: 'prompt must be a string, got true' },
    { field: 'prompt', value: null, message: 'prompt must be a string, got null' },
    { field: 'audio', value: 'true', message: 'audio must be a boolean (true or false), got "true"' },
    { field: 'watermark', value: 1, message: 'watermark must be a boolean (true or false), got 1' },
    { field: 'size', value: 1920, message: 'size must be a string, got 1920' },
    { field: 'media', value: { url: 'x' }, message: 'media must be an array, got {"url":"x"}' },
    { field: 'media[0]', value: 'https://example.com/a.png', message: 'media[0] must be an object' },
    { field: 'media[0].url', value: 7, message: 'media[0].url must be a string, got 7' },
    { field: 'extra', value: 'webhook', message: 'extra must be an object, got "webhook"' },
  ];
  /** Metadata carries objects and arrays as their JSON text, scalars as they are. */
  const metadataValue = (value: unknown) => (typeof value === 'object' && value !== null ? JSON.stringify(value) : value);

  for (const { field, value, message } of cases) {
    it(`refuses ${JSON.stringify(value)} for ${field}`, () => {
      refuses(r2v, withField(base, field, value), {
        field,
        messageIncludes: [message],
        metadata: { value: metadataValue(value) },
      });
    });
  }

  it('accepts 7.0, which JSON reads as the integer 7', () => {
    accepts(t2v, JSON.parse('{"prompt": "x", "seed": 7.0}'));
  });
});

describe('required fields', () => {
  const cases = [
    { model: t2v, body: {}, field: 'prompt' },
    { model: r2v, body: { prompt: 'x' }, field: 'media' },
    { model: r2v, body: { media: minimalBodies['wan2.7-r2v'].media }, field: 'prompt' },
    { model: r2v, body: { prompt: 'x', media: [{ url: 'https://example.com/a.png' }] }, field: 'media[0].type' },
    { model: r2v, body: { prompt: 'x', media: [{ type: 'reference_image' }] }, field: 'media[0].url' },
    { model: videoedit, body: {}, field: 'video_url' },
  ];
  for (const { model, body, field } of cases) {
    it(`${model.id} refuses a body without ${field}`, () => {
      refuses(model, body, { field, messageIncludes: [`${field} is required`] });
    });
  }
});

describe('unknown fields', () => {
  it('suggests the closest documented field at the top level', () => {
    refuses(t2v, { ...minimalBodies['wan2.7-t2v'], durration: 5 }, {
      field: 'durration',
      messageIncludes: ['unknown field "durration"; did you mean "duration"?'],
      metadata: { suggestion: 'duration' },
    });
  });

  it('suggests within nested objects, with the full path', () => {
    const body = withField(minimalBodies['wan2.7-r2v'], 'media[0].urll', 'https://example.com/b.png');
    refuses(r2v, body, {
      field: 'media[0].urll',
      messageIncludes: ['unknown field "media[0].urll"; did you mean "media[0].url"?'],
      metadata: { suggestion: 'media[0].url' },
    });
  });

  it('ignores case when it suggests', () => {
    refuses(t2v, { ...minimalBodies['wan2.7-t2v'], Watermark: true }, { field: 'Watermark', metadata: { suggestion: 'watermark' } });
  });

  it('lists the documented fields when nothing is close', () => {
    const refusal = refuses(i2v, { ...minimalBodies['wan2.7-i2v'], colour_grading: 'warm' }, {
      field: 'colour_grading',
      messageIncludes: ['unknown field "colour_grading"; documented fields: prompt, negative_prompt, image_url'],
    });
    assert.equal(refusal.metadata.suggestion, undefined);
  });

  it('names fields that belong to another model as unknown', () => {
    refuses(t2v, { ...minimalBodies['wan2.7-t2v'], image_url: 'https://example.com/a.png' }, { field: 'image_url' });
  });
});

describe('several errors', () => {
  it('reports unknown fields first, then wrong types, then ranges, and lists them all', () => {
    const body = { prompt: 'x', duration: 16, seed: '5', sizee: '1280*720' };
    const refusal = refuses(t2v, body, { field: 'sizee' });
    assert.deepEqual(
      (refusal.metadata.errors as { field: string }[]).map(({ field }) => field),
      ['sizee', 'seed', 'duration'],
    );
  });

  it('reports one problem per field', () => {
    const refusal = refuses(i2v, { image_url: 'ftp://example.com/a.png', prompt: 5 }, { field: 'prompt' });
    assert.deepEqual(refusal.metadata.errors, [
      { field: 'prompt', message: 'prompt must be a string, got 5' },
      { field: 'image_url', message: 'image_url must be an http(s) URL, got "ftp://example.com/a.png"' },
    ]);
  });

  it('has no error list for a single problem', () => {
    const refusal = refuses(t2v, { prompt: 'x', duration: 1 }, { field: 'duration' });
    assert.equal(refusal.metadata.errors, undefined);
  });
});

describe('media URLs', () => {
  const refused = ['ftp://example.com/a.png', 'example.com/a.png', '/a.png', '', 'http://', 'https://exa mple.com/a.png', 'file:///etc/passwd'];
  for (const url of refused) {
    it(`refuses ${JSON.stringify(url)}`, () => {
      refuses(i2v, { image_url: url }, {
        field: 'image_url',
        messageIncludes: [`image_url must be an http(s) URL, got ${JSON.stringify(url)}`],
        metadata: { value: url },
      });
    });
  }

  it('accepts http and https URLs with ports, queries and non-ASCII paths', () => {
    accepts(i2v, { image_url: 'http://localhost:8080/a.png?x=1&signature=abc' });
    accepts(i2v, { image_url: 'https://example.com/画像/猫.png' });
  });

  it('reads the scheme without regard to case, as URLs do', () => {
    for (const url of ['HTTP://example.com/a.png', 'Https://example.com/a.png', 'hTTpS://example.com/a.png']) {
      assert.equal(accepts(i2v, { image_url: url }).image_url, url);
    }
    accepts(r2v, { prompt: 'x', media: [{ type: 'reference_image', url: 'HTTPS://example.com/a.png' }] });
  });

  it('shortens a long value in the message and in metadata', () => {
    const url = `ftp://example.com/${'a'.repeat(200)}`;
    const refusal = refuses(i2v, { image_url: url }, { field: 'image_url' });
    const shown = refusal.metadata.value as string;
    assert.equal(Array.from(shown).length, 80);
    assert.ok(shown.endsWith('…'));
    assert.ok(refusal.message.includes(JSON.stringify(shown)));
  });
});

describe('the body', () => {
  for (const body of [[], 'a cat', null, 42, undefined]) {
    it(`refuses ${JSON.stringify(body) ?? 'no body'}`, () => {
      for (const model of models) {
        refuses(model, body, { field: 'body', messageIncludes: ['the request body must be a JSON object'] });
      }
    });
  }

  it(`refuses objects and arrays nested deeper than ${maxNestingDepth} levels before copying them, without overflowing the stack`, () => {
    // Built without recursion, far deeper than any stack: the check must not recurse either.
    let deep: unknown[] = [];
    for (let level = 0; level < 100_000; level++) deep = [deep];
    for (const extra of [{ deep }, nested(maxNestingDepth - 1)]) {
      assert.throws(() => accepts(t2v, { ...minimalBodies['wan2.7-t2v'], extra }), {
        reason: 'INVALID_REQUEST_BODY',
        message: `the request body nests objects and arrays deeper than the limit of ${maxNestingDepth} levels`,
        metadata: { field: 'body', limit: maxNestingDepth },
      });
    }
    // The body is level 1 and extra level 2: extra may hold 30 more.
    assert.ok(accepts(t2v, { ...minimalBodies['wan2.7-t2v'], extra: nested(maxNestingDepth - 2) }));
  });

  it('copies a "__proto__" key inside extra as data, never as the prototype of the copy', () => {
    const body = JSON.parse(`{"prompt":"a boat","extra":{"__proto__":{"admin":true}}}`) as Record<string, unknown>;
    const extra = accepts(t2v, body).extra as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(extra), Object.prototype);
    assert.equal((extra as { admin?: unknown }).admin, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(extra, '__proto__')?.value, { admin: true });
  });

  it('accepts extra, free-form, and keeps it', () => {
    const extra = { webhook: { url: 'https://example.com/hook' }, anything: [1, 2] };
    for (const model of models) {
      assert.deepEqual(accepts(model, { ...minimalBodies[model.id], extra }).extra, extra);
    }
  });
});
