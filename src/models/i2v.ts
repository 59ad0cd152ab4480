import { Type, type Static } from '@sinclair/typebox';
import { invalidRequest } from '../spec/api-error.js';
import {
  durationField,
  mediaReferencesOf,
  mediaUrlField,
  negativePromptField,
  promptExtendField,
  promptField,
  requestBodySchema,
  resolutionField,
  seedField,
  watermarkField,
} from './common-fields.js';
import { audioLimits, imageLimits, videoLimits } from './media-limits.js';
import type { ModelDefinition } from './model.js';

const imageFormats =
  'Supported formats: JPEG, JPG, PNG (no transparency), BMP, WEBP. ' +
  'Resolution: width and height in [240, 8000] pixels, aspect ratio 1:8~8:1, max 20MB.';

/** The limits of the fields as the page states them, enforced on the fetched files. */
const frameLimits = imageLimits({ maxMegabytes: 20, maxAspectRatio: 8, opaqueOnly: true });
const firstClipLimits = videoLimits({ minSeconds: 2, maxSeconds: 10, maxAspectRatio: 8 });
const drivingAudioLimits = audioLimits({ formats: ['wav', 'mp3'], minSeconds: 2, maxSeconds: 30 });

/**
 * The page marks `image_url` required, yet calls it mutually exclusive with `first_clip_url`:
 * the schema makes both optional and `normalize` asks for exactly one, with a message that
 * names both.
 */
export const i2vSchema = requestBodySchema(
  {
    prompt: Type.Optional(
      promptField('Text prompt describing desired video content. Supports Chinese and English, max 5000 characters.', 5000),
    ),
    negative_prompt: negativePromptField,
    image_url: Type.Optional(
      mediaUrlField(
        `First frame image URL. ${imageFormats} ` +
          'Mutually exclusive with first_clip_url; exactly one of the two must be provided.',
      ),
    ),
    last_frame_url: Type.Optional(
      mediaUrlField(
        'Last frame image URL. Combined with the first frame (image_url) to generate a first+last frame video; ' +
          'not accepted with first_clip_url. Same format restrictions as the first frame.',
      ),
    ),
    first_clip_url: Type.Optional(
      mediaUrlField(
        'First video clip URL for video continuation. The model extends the video based on its content. ' +
          'Supported formats: mp4, mov. Duration: 2~10s, resolution: width and height in [240, 4096] pixels, ' +
          'aspect ratio 1:8~8:1, max 100MB. Mutually exclusive with image_url.',
      ),
    ),
    driving_audio_url: Type.Optional(
      mediaUrlField(
        'Driving audio URL. When provided, the model uses it as the driving source for video generation ' +
          '(e.g., lip sync, motion beats). When omitted, the model auto-generates matching background music or ' +
          'sound effects. Supported formats: wav, mp3. Duration: 2~30s, max 15MB.',
      ),
    ),
    resolution: resolutionField(
      'Output video resolution tier, affects pricing. Video aspect ratio matches input media.',
    ),
    duration: durationField(
      { minimum: 2, maximum: 15, default: 5 },
      'Video duration in seconds, billed per second. Range: [2, 15] integer.',
    ),
    prompt_extend: promptExtendField,
    watermark: watermarkField,
    seed: seedField,
  },
  'Wan 2.7 Image-to-Video: first frame, first and last frame, or continuation of a clip, driven by an ' +
    'optional audio track, 720P and 1080P, 2 to 15 seconds.',
);

export type I2vRequest = Static<typeof i2vSchema>;

function checkStartingMedia(request: I2vRequest): void {
  const hasImage = request.image_url !== undefined;
  const hasClip = request.first_clip_url !== undefined;
  if (!hasImage && !hasClip) {
    throw invalidRequest(
      'image_url',
      'one of image_url and first_clip_url is required: image_url for a video from a first frame, ' +
        'first_clip_url to continue a video clip',
      { fields: ['image_url', 'first_clip_url'] },
    );
  }
  if (hasImage && hasClip) {
    throw invalidRequest(
      'first_clip_url',
      'image_url and first_clip_url are mutually exclusive: send image_url (first frame) or ' +
        'first_clip_url (video continuation), not both',
      { fields: ['image_url', 'first_clip_url'] },
    );
  }
  if (hasClip && request.last_frame_url !== undefined) {
    throw invalidRequest(
      'last_frame_url',
      'last_frame_url cannot be used with first_clip_url: a last frame closes a video that starts from image_url',
      { fields: ['last_frame_url', 'first_clip_url'] },
    );
  }
}

export const i2v = {
  id: 'wan2.7-i2v' as const,
  taskType: 'WAN_2_7_I2V',
  title: 'Wan 2.7 Image-to-Video',
  schema: i2vSchema,
  normalize: (request) => {
    checkStartingMedia(request);
    return request;
  },
  mediaReferences: (request) =>
    mediaReferencesOf(request, [
      ['image_url', frameLimits],
      ['last_frame_url', frameLimits],
      ['first_clip_url', firstClipLimits],
      ['driving_audio_url', drivingAudioLimits],
    ]),
} satisfies ModelDefinition<I2vRequest, string>;
