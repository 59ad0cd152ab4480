import { describe, it } from 'node:test';
import { sizeOptions, ratioOptions } from '../../src/models/output-size.js';
import { i2v } from '../../src/models/i2v.js';
import { r2v } from '../../src/models/r2v.js';
import { t2v } from '../../src/models/t2v.js';
import { videoedit } from '../../src/models/videoedit.js';
import { accepts, refuses, urlOfLength, withField, minimalBodies, type AnyModel } from './models-assertions.js';

/**
 * Every documented limit of every model: the value at each edge passes and the value just past
 * it is refused, naming the field, the value and the limit.
 */

interface IntegerRange {
  field: string;
  minimum: number;
  maximum: number;
}

interface LengthLimit {
  field: string;
  maxLength: number;
  /** A valid value of exactly `length` characters. */
  valueOfLength: (length: number) => string;
}

interface Enumeration {
  field: string;
  allowed: readonly string[];
}

interface ModelLimits {
  model: AnyModel;
  integers: IntegerRange[];
  lengths: LengthLimit[];
  enums: Enumeration[];
}

const text = (length: number) => 'a'.repeat(length);
/** Characters are code points: an emoji is one character though it is two UTF-16 units. */
const emojiText = (length: number) => '🎬'.repeat(length);

const seed: IntegerRange = { field: 'seed', minimum: 0, maximum: 2147483647 };
const negativePrompt: LengthLimit = { field: 'negative_prompt', maxLength: 500, valueOfLength: text };
const urlLimit = (field: string): LengthLimit => ({ field, maxLength: 4096, valueOfLength: urlOfLength });
const resolution: Enumeration = { field: 'resolution', allowed: ['720P', '1080P'] };
const size: Enumeration = { field: 'size', allowed: sizeOptions };

const limitsByModel: ModelLimits[] = [
  {
    model: t2v,
    integers: [seed, { field: 'duration', minimum: 2, maximum: 15 }],
    lengths: [negativePrompt, urlLimit('audio_url')],
    enums: [size],
  },
  {
    model: i2v,
    integers: [seed, { field: 'duration', minimum: 2, maximum: 15 }],
    lengths: [
      { field: 'prompt', maxLength: 5000, valueOfLength: emojiText },
      negativePrompt,
      urlLimit('image_url'),
      urlLimit('driving_audio_url'),
    ],
    enums: [resolution],
  },
  {
    model: r2v,
    integers: [seed, { field: 'duration', minimum: 2, maximum: 10 }],
    lengths: [
      { field: 'prompt', maxLength: 1500, valueOfLength: text },
      negativePrompt,
      urlLimit('media[0].url'),
      urlLimit('media[0].reference_voice'),
    ],
    enums: [
      size,
      { field: 'shot_type', allowed: ['single', 'multi'] },
      { field: 'media[0].type', allowed: ['reference_image', 'reference_video', 'first_frame'] },
    ],
  },
  {
    model: videoedit,
    // 1 is refused too: see models-videoedit.test.ts.
    integers: [seed, { field: 'duration', minimum: 0, maximum: 10 }],
    lengths: [
      { field: 'prompt', maxLength: 5000, valueOfLength: text },
      negativePrompt,
      urlLimit('video_url'),
      urlLimit('reference_image_url'),
    ],
    enums: [resolution, { field: 'ratio', allowed: ratioOptions }, { field: 'audio_setting', allowed: ['auto', 'origin'] }],
  },
];

for (const { model, integers, lengths, enums } of limitsByModel) {
  const base = minimalBodies[model.id];

  describe(`${model.id} limits`, () => {
    for (const { field, minimum, maximum } of integers) {
      it(`${field} accepts ${minimum} and ${maximum}, refuses ${minimum - 1} and ${maximum + 1}`, () => {
        accepts(model, withField(base, field, minimum));
        accepts(model, withField(base, field, maximum));
        for (const outside of [minimum - 1, maximum + 1]) {
          refuses(model, withField(base, field, outside), {
            field,
            messageIncludes: [`${field} must be an integer between ${minimum} and ${maximum}, got ${outside}`],
            metadata: { value: outside, minimum, maximum },
          });
        }
      });
    }

    for (const { field, maxLength, valueOfLength } of lengths) {
      it(`${field} accepts ${maxLength} characters, refuses ${maxLength + 1}`, () => {
        accepts(model, withField(base, field, valueOfLength(maxLength)));
        refuses(model, withField(base, field, valueOfLength(maxLength + 1)), {
          field,
          messageIncludes: [`${field} must be at most ${maxLength} characters, got ${maxLength + 1}`],
          metadata: { length: maxLength + 1, maxLength },
        });
      });
    }

    for (const { field, allowed } of enums) {
      it(`${field} accepts each of ${allowed.join(', ')} and refuses others`, () => {
        for (const value of allowed) accepts(model, withField(base, field, value));
        refuses(model, withField(base, field, 'bogus'), {
          field,
          messageIncludes: [`${field} must be one of ${allowed.join(', ')}, got "bogus"`],
          metadata: { value: 'bogus', allowed },
        });
      });
    }
  });
}

describe('r2v media count', () => {
  const item = { url: 'https://example.com/character.png', type: 'reference_image' };
  const withItems = (count: number) => withField(minimalBodies['wan2.7-r2v'], 'media', Array(count).fill(item));

  it('accepts 1 and 5 items, refuses 0 and 6', () => {
    accepts(r2v, withItems(1));
    accepts(r2v, withItems(5));
    for (const count of [0, 6]) {
      refuses(r2v, withItems(count), {
        field: 'media',
        messageIncludes: [`media must have 1 to 5 items, got ${count}`],
        metadata: { count, minItems: 1, maxItems: 5 },
      });
    }
  });
});

describe('size refusal', () => {
  it('suggests the documented size closest to a near miss', () => {
    refuses(t2v, withField(minimalBodies['wan2.7-t2v'], 'size', '1280x720'), {
      field: 'size',
      messageIncludes: ['got "1280x720"', 'did you mean "1280*720"?'],
      metadata: { value: '1280x720', suggestion: '1280*720' },
    });
  });
});
