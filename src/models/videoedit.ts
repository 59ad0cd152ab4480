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
  stringEnum,
  watermarkField,
} from './common-fields.js';
import { imageLimits, videoLimits } from './media-limits.js';
import type { ModelDefinition } from './model.js';
import { ratioOptions } from './output-size.js';

/** The limits of the fields as the page states them, enforced on the fetched files. */
const inputVideoLimits = videoLimits({ minSeconds: 2, maxSeconds: 10, maxAspectRatio: 8 });
const referenceImageLimits = imageLimits({ maxMegabytes: 20, maxAspectRatio: 8, opaqueOnly: true });

const referenceImageFormats =
  'Supported formats: JPEG, JPG, PNG (no transparency), BMP, WEBP. Resolution: [240, 8000] pixels, ' +
  'aspect ratio 1:8~8:1, max 20MB.';

/**
 * The three reference image fields are independent: any subset may be sent (only
 * `reference_image_url_3`, say). The page numbers them but states no order rule, and refusing a
 * gap would reject requests that mean something clear.
 */
/** 0 keeps the input's length; any other value cuts the input, and a cut lasts at least 2 s. */
const durationRange = { minimum: 0, maximum: 10, default: 0 };
const shortestCutSeconds = 2;

export const videoeditSchema = requestBodySchema(
  {
    prompt: Type.Optional(
      promptField(
        'Text prompt describing desired video edits. Supports Chinese and English, max 5000 characters. ' +
          "Examples: 'Convert the entire scene to clay style', " +
          "'Replace the girl's clothes with the ones in the reference image'.",
        5000,
      ),
    ),
    negative_prompt: negativePromptField,
    video_url: mediaUrlField(
      'Input video URL to be edited. Supported formats: mp4, mov. Duration: 2~10s, resolution: width and ' +
        'height in [240, 4096] pixels, aspect ratio 1:8~8:1, max 100MB.',
    ),
    reference_image_url: Type.Optional(
      mediaUrlField(
        'Reference image URL for providing visual reference for editing (e.g., clothing replacement, style ' +
          `transfer). ${referenceImageFormats} Up to 3 reference images supported.`,
      ),
    ),
    reference_image_url_2: Type.Optional(
      mediaUrlField('Second reference image URL. Same format restrictions as reference_image_url.'),
    ),
    reference_image_url_3: Type.Optional(
      mediaUrlField('Third reference image URL. Same format restrictions as reference_image_url.'),
    ),
    resolution: resolutionField(
      'Output video resolution tier, affects pricing (1080P > 720P). ' +
        'Video aspect ratio matches input unless ratio is specified.',
    ),
    ratio: Type.Optional(
      stringEnum(ratioOptions, {
        description:
          'Output video aspect ratio. If not set, uses input video’s aspect ratio. ' +
          '720P: 16:9 (1280*720), 9:16 (720*1280), 1:1 (960*960), 4:3 (1104*832), 3:4 (832*1104). ' +
          '1080P: 16:9 (1920*1080), 9:16 (1080*1920), 1:1 (1440*1440), 4:3 (1648*1248), 3:4 (1248*1648).',
      }),
    ),
    duration: durationField(
      durationRange,
      'Output video duration in seconds. Default 0 means use input video duration without truncation. ' +
        'When set to an integer in [2, 10], the system truncates from the start of the input video to the ' +
        'specified length; 1 is not accepted. Only configure when truncation is needed.',
    ),
    audio_setting: Type.Optional(
      stringEnum(['auto', 'origin'], {
        default: 'auto',
        description:
          "Audio behavior. 'auto': model decides based on prompt content - may regenerate audio if prompt " +
          "involves sound, otherwise may keep original. 'origin': force keep original video audio.",
      }),
    ),
    prompt_extend: promptExtendField,
    watermark: watermarkField,
    seed: seedField,
  },
  'Wan 2.7 Video Editing: instruction-based editing and style transfer of a video, with up to 3 reference ' +
    'images, 720P and 1080P.',
);

export type VideoeditRequest = Static<typeof videoeditSchema>;

function checkDuration(request: VideoeditRequest): void {
  const { duration } = request;
  if (duration !== undefined && duration !== 0 && duration < shortestCutSeconds) {
    const maximum = durationRange.maximum;
    throw invalidRequest(
      'duration',
      `duration must be 0 (keep the input video's length) or an integer between ${shortestCutSeconds} and ` +
        `${maximum}, got ${duration}`,
      { value: duration, minimum: shortestCutSeconds, maximum },
    );
  }
}

export const videoedit = {
  id: 'wan2.7-videoedit' as const,
  taskType: 'WAN_2_7_VIDEOEDIT',
  title: 'Wan 2.7 Video Editing',
  schema: videoeditSchema,
  normalize: (request) => {
    checkDuration(request);
    return request;
  },
  mediaReferences: (request) =>
    mediaReferencesOf(request, [
      ['video_url', inputVideoLimits],
      ['reference_image_url', referenceImageLimits],
      ['reference_image_url_2', referenceImageLimits],
      ['reference_image_url_3', referenceImageLimits],
    ]),
} satisfies ModelDefinition<VideoeditRequest, string>;
