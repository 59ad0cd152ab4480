import { seededRandom } from './seeded-random.js';

/**
 * The preview's stand-in for `prompt_extend`: the hosted model rewrites short prompts with a
 * language model; the preview appends a few descriptive phrases drawn from the seed and the
 * prompt, so the same request always gets the same extended prompt and clients can display it.
 */
const cameraPhrases = ['slow dolly-in', 'gentle handheld drift', 'smooth tracking shot', 'static wide shot', 'low-angle crane move'];
const lightPhrases = ['soft golden-hour light', 'cool overcast light', 'warm tungsten glow', 'crisp morning light', 'moody low-key light'];
const detailPhrases = ['rich textures', 'shallow depth of field', 'cinematic colour grade', 'fine film grain', 'vivid but natural colours'];

/** The prompt as it is rendered: `prompt` itself, or, with `extend`, `prompt` plus three seeded phrases. */
export function extendPrompt(prompt: string, seed: number, extend: boolean): string {
  const trimmed = prompt.trim();
  if (!extend) return prompt;
  const random = seededRandom(seed, `prompt-extend:${trimmed}`);
  const phrases = [random.pick(cameraPhrases), random.pick(lightPhrases), random.pick(detailPhrases)];
  const base = trimmed === '' ? 'An evocative scene' : trimmed.replace(/[.。!！?？\s]+$/u, '');
  return `${base}. ${phrases[0]}, ${phrases[1]}, ${phrases[2]}.`;
}

/** Longest caption drawn on a t2v frame, in characters; longer prompts end with an ellipsis. */
const captionLength = 60;

/**
 * A prompt as caption text that can sit in a filtergraph without escaping: characters with a
 * meaning to ffmpeg's parsers (`'` `\` `:` `,` `;` `[` `]` `=` `%` and control characters)
 * become spaces, runs of spaces one, and the text is cut to a line.
 */
export function captionText(prompt: string): string {
  const plain = prompt
    .replace(/['\\:,;[\]=%{}\p{Cc}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const characters = [...plain];
  return characters.length > captionLength ? `${characters.slice(0, captionLength - 1).join('').trimEnd()}…` : plain;
}
