import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { editStyles, styleFilters, styleOfPrompt } from '../../src/engines/preview/edit-styles.js';
import { captionText, extendPrompt } from '../../src/engines/preview/prompt-extension.js';
import { seededRandom } from '../../src/engines/preview/seeded-random.js';

describe('extendPrompt', () => {
  test('off: the prompt exactly as sent', () => {
    assert.equal(extendPrompt(' a fox ', 1, false), ' a fox ');
  });

  test('on: the prompt plus three phrases, the same for the same seed and prompt', () => {
    const extended = extendPrompt('A fox in the snow.', 7, true);
    assert.match(extended, /^A fox in the snow\. [^,]+, [^,]+, [^,]+\.$/);
    assert.equal(extendPrompt('A fox in the snow.', 7, true), extended);
  });

  test('another seed or prompt can give other phrases; an empty prompt still gets a sentence', () => {
    const variants = new Set(Array.from({ length: 20 }, (_, seed) => extendPrompt('a fox', seed, true)));
    assert.ok(variants.size > 5, `${variants.size} variants over 20 seeds`);
    assert.match(extendPrompt('', 1, true), /^An evocative scene\. /);
  });
});

describe('captionText', () => {
  test('characters with a meaning to ffmpeg become spaces; the text is one line of at most 60 characters', () => {
    assert.equal(captionText("it's 5:30, [dawn];\n=100% \\calm{}"), 'it s 5 30 dawn 100 calm');
    const long = captionText('word '.repeat(40));
    assert.equal([...long].length, 60);
    assert.ok(long.endsWith('…'));
    assert.equal(captionText('一只狐狸在雪中'), '一只狐狸在雪中');
  });
});

describe('styleOfPrompt', () => {
  test('each documented style is found by its words, in English and Chinese', () => {
    assert.equal(styleOfPrompt('Make it Black and White'), 'black-and-white');
    assert.equal(styleOfPrompt('monochrome please'), 'black-and-white');
    assert.equal(styleOfPrompt('a pencil sketch'), 'sketch');
    assert.equal(styleOfPrompt('old film look, sepia'), 'vintage');
    assert.equal(styleOfPrompt('Convert the entire scene to clay style'), 'clay');
    assert.equal(styleOfPrompt('cyberpunk neon city'), 'neon');
    assert.equal(styleOfPrompt('anime style'), 'cartoon');
    assert.equal(styleOfPrompt('invert the colours'), 'negative');
    assert.equal(styleOfPrompt('dreamy soft focus'), 'blur');
    assert.equal(styleOfPrompt('把画面变成黑白'), 'black-and-white');
    assert.equal(styleOfPrompt('粘土风格'), 'clay');
  });

  test('the style named first wins; no style word: a colour grade', () => {
    assert.equal(styleOfPrompt('a sketch, then neon'), 'sketch');
    assert.equal(styleOfPrompt('neon, then a sketch'), 'neon');
    assert.equal(styleOfPrompt('Replace the girl’s clothes with the ones in the reference image'), 'grade');
  });
});

describe('styleFilters', () => {
  test('every style has filters, each one different', () => {
    const random = () => seededRandom(1, 'grade');
    const chains = [...editStyles, 'grade' as const].map((style) => styleFilters(style, random()).join(','));
    for (const chain of chains) assert.ok(chain.length > 0);
    assert.equal(new Set(chains).size, chains.length);
  });

  test('black-and-white removes the saturation; the grade depends on the seed', () => {
    assert.match(styleFilters('black-and-white', seededRandom(1, 'grade')).join(','), /hue=s=0/);
    assert.notEqual(
      styleFilters('grade', seededRandom(1, 'grade')).join(','),
      styleFilters('grade', seededRandom(2, 'grade')).join(','),
    );
  });
});
