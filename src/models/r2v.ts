import { Type, type Static } from '@sinclair/typebox';
import { invalidRequest } from '../spec/api-error.js';
import {
  durationField,
  mediaUrlField,
  negativePromptField,
  promptField,
  requestBodySchema,
  seedField,
  sizeField,
  stringEnum,
  watermarkField,
} from './common-fields.js';
import { audioLimits, imageLimits, videoLimits } from './media-limits.js';
import type { MediaReference, ModelDefinition } from './model.js';

const mediaTypes = ['reference_image', 'reference_video', 'first_frame'] as const;
type MediaType = (typeof mediaTypes)[number];

const mediaItemSchema = Type.Object(
  {
    url: mediaUrlField(
      'URL of the reference: an image (JPEG, JPG, PNG, BMP, WEBP; resolution [240, 8000] px; max 10MB) for ' +
        'reference_image and first_frame, a video (MP4, MOV; 1-30s; max 100MB) for reference_video.',
    ),
    type: stringEnum(mediaTypes, {
      description:
        'reference_image and reference_video each show one character; first_frame is the opening frame of ' +
        'the video (at most one, counted as an image).',
    }),
    reference_voice: Type.Optional(
      mediaUrlField("URL of an audio file (MP3, WAV, FLAC; 3-30s) giving this character's voice."),
    ),
  },
  { additionalProperties: false },
);

export const r2vSchema = requestBodySchema(
  {
    prompt: promptField(
      'Text prompt describing desired video content. Use character1, character2 etc. to reference characters ' +
        'from media array in order. Each reference (video or image) contains a single character. ' +
        'Supports Chinese and English, max 1500 characters.',
      1500,
    ),
    negative_prompt: negativePromptField,
    media: Type.Array(mediaItemSchema, {
      minItems: 1,
      maxItems: 5,
      description:
        'Reference media array for character appearance, motion and voice extraction. Items map to ' +
        'character1, character2 etc. in order. Images: 0-5, Videos: 0-3, Total <= 5.',
    }),
    size: sizeField,
    duration: durationField(
      { minimum: 2, maximum: 10, default: 5 },
      'Video duration in seconds, billed per second. Range: [2, 10] integer.',
    ),
    shot_type: Type.Optional(
      stringEnum(['single', 'multi'], {
        default: 'single',
        description:
          'Shot type. single = one continuous shot (default), multi = multiple shots with transitions. ' +
          'Takes priority over prompt.',
      }),
    ),
    audio: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'Whether to generate audio in the video, affects pricing. Default true (with audio).',
      }),
    ),
    watermark: watermarkField,
    seed: seedField,
  },
  'Wan 2.7 Reference-to-Video: characters taken from reference images and videos (appearance, motion, ' +
    'voice) in one or several shots, 720P and 1080P, 2 to 10 seconds.',
);

export type R2vRequest = Static<typeof r2vSchema>;

/**
 * Per-type limits of `media`. The page's "images: 0-5" needs no check: `media` holds at most 5
 * items in all.
 */
const mediaTypeLimits: readonly { type: MediaType; maximum: number; what: string }[] = [
  { type: 'reference_video', maximum: 3, what: 'videos (type "reference_video")' },
  { type: 'first_frame', maximum: 1, what: 'item of type "first_frame"' },
];

function checkMediaCounts(request: R2vRequest): void {
  for (const { type, maximum, what } of mediaTypeLimits) {
    const count = request.media.filter((item) => item.type === type).length;
    if (count > maximum) {
      throw invalidRequest('media', `media may hold at most ${maximum} ${what}, got ${count}`, { count, maximum });
    }
  }
}

/**
 * The `media` description: images JPEG, JPG, PNG, BMP, WEBP, [240, 8000] px, at most 10 MB (no
 * aspect-ratio or transparency rule on this page); videos MP4, MOV, 1–30 s, at most 100 MB;
 * voices MP3, WAV, FLAC, 3–30 s (and the 15 MB of every audio field).
 */
const referenceImageLimits = imageLimits({ maxMegabytes: 10, opaqueOnly: false });
const referenceVideoLimits = videoLimits({ minSeconds: 1, maxSeconds: 30 });
const voiceLimits = audioLimits({ formats: ['mp3', 'wav', 'flac'], minSeconds: 3, maxSeconds: 30 });

function mediaReferences(request: R2vRequest): MediaReference[] {
  return request.media.flatMap((item, index): MediaReference[] => [
    item.type === 'reference_video'
      ? { field: `media[${index}].url`, url: item.url, kind: 'video', limits: referenceVideoLimits }
      : { field: `media[${index}].url`, url: item.url, kind: 'image', limits: referenceImageLimits },
    ...(item.reference_voice === undefined
      ? []
      : [{ field: `media[${index}].reference_voice`, url: item.reference_voice, kind: 'audio' as const, limits: voiceLimits }]),
  ]);
}

export const r2v = {
  id: 'wan2.7-r2v' as const,
  taskType: 'WAN_2_7_R2V',
  title: 'Wan 2.7 Reference-to-Video',
  schema: r2vSchema,
  normalize: (request) => {
    checkMediaCounts(request);
    return request;
  },
  mediaReferences,
} satisfies ModelDefinition<R2vRequest, string>;
