import { Type, type Static } from '@sinclair/typebox';
import {
  durationField,
  mediaReferencesOf,
  mediaUrlField,
  negativePromptField,
  promptExtendField,
  promptField,
  requestBodySchema,
  seedField,
  sizeField,
  watermarkField,
} from './common-fields.js';
import { audioLimits } from './media-limits.js';
import type { ModelDefinition } from './model.js';

/** `audio_url`: "Formats: wav, mp3. Duration: 3~30s. Max size: 15MB." */
const drivingAudioLimits = audioLimits({ formats: ['wav', 'mp3'], minSeconds: 3, maxSeconds: 30 });

/** The page says the part of the prompt beyond this "is automatically truncated", not refused. */
const promptKeptLength = 1500;

export const t2vSchema = requestBodySchema(
  {
    prompt: promptField(
      'Text prompt describing desired video content. Supports Chinese and English, max 1500 characters. ' +
        'Exceeding portion is automatically truncated.',
    ),
    negative_prompt: negativePromptField,
    audio_url: Type.Optional(
      mediaUrlField(
        'Audio file URL. Model will use this audio to drive video generation (lip-sync, beat-matching, etc.). ' +
          'If not provided, model auto-generates matching background music or sound effects. Formats: wav, mp3. ' +
          'Duration: 3~30s. Max size: 15MB. If audio exceeds video duration it is truncated; if shorter, ' +
          'remaining video is silent.',
      ),
    ),
    size: sizeField,
    duration: durationField(
      { minimum: 2, maximum: 15, default: 5 },
      'Video duration in seconds, billed per second. Range: [2, 15] integer.',
    ),
    prompt_extend: promptExtendField,
    watermark: watermarkField,
    seed: seedField,
  },
  'Wan 2.7 Text-to-Video: smooth videos from a text prompt, driven by an optional audio track, ' +
    '720P and 1080P, 2 to 15 seconds.',
);

export type T2vRequest = Static<typeof t2vSchema>;

/** Characters are Unicode code points, so an emoji is one character and is never split in half. */
function truncateToCodePoints(text: string, length: number): string {
  const codePoints = Array.from(text);
  return codePoints.length > length ? codePoints.slice(0, length).join('') : text;
}

export const t2v = {
  id: 'wan2.7-t2v' as const,
  taskType: 'WAN_2_7_T2V',
  title: 'Wan 2.7 Text-to-Video',
  schema: t2vSchema,
  normalize: (request) => ({ ...request, prompt: truncateToCodePoints(request.prompt, promptKeptLength) }),
  mediaReferences: (request) => mediaReferencesOf(request, [['audio_url', drivingAudioLimits]]),
} satisfies ModelDefinition<T2vRequest, string>;
