import type { ModelId, ModelRequest } from '../../models/model.js';
import { requestedDimensions, type Dimensions } from '../../models/output-size.js';
import { fieldWarnings } from '../open-wan/field-warnings.js';
import { shapeVideo } from '../open-wan/video-shape.js';
import type { WanProfile } from '../open-wan/wan-profile.js';

/**
 * Our request → the form of a `POST /v1/videos` (vLLM-Omni, SGLang Diffusion): prompt, size in
 * pixels, length in frames, seed, negative prompt, and the first frame as `input_reference`.
 * Pure: the same request, seed and input dimensions give the same form and warnings.
 *
 * Every field of our request is sent, translated, or named in a warning (see field-warnings.ts).
 */

export interface OpenAiVideosTarget {
  /** The engine's name, for the warnings. */
  engine: string;
  /** The checkpoint the server runs (its `model` form field), when configured. */
  model?: string;
  profile: WanProfile;
  /** `num_inference_steps`, when configured; the server's default otherwise. */
  steps?: number;
}

export interface OpenAiVideosForm {
  /** Text fields of the multipart form, in the order they are sent. */
  fields: Record<string, string>;
  /** The request field whose file goes as `input_reference`, if any. */
  inputReference?: 'image_url';
  warnings: string[];
}

/** The protocol requires a prompt and SGLang refuses an empty one: a blank stands for none. */
const noPrompt = ' ';

export function translateRequest(
  target: OpenAiVideosTarget,
  model: ModelId,
  request: ModelRequest,
  seed: number,
  inputOf: (field: string) => Dimensions,
): OpenAiVideosForm {
  const seconds = typeof request.duration === 'number' ? request.duration : 5;
  const shape = shapeVideo(target.engine, target.profile, requestedDimensions(model, request, inputOf), seconds);
  const fields: Record<string, string> = {
    ...(target.model === undefined ? {} : { model: target.model }),
    prompt: typeof request.prompt === 'string' && request.prompt !== '' ? request.prompt : noPrompt,
    ...(typeof request.negative_prompt === 'string' ? { negative_prompt: request.negative_prompt } : {}),
    width: String(shape.width),
    height: String(shape.height),
    num_frames: String(shape.frames),
    fps: String(shape.fps),
    seed: String(seed),
    ...(target.steps === undefined ? {} : { num_inference_steps: String(target.steps) }),
  };
  const used = ['prompt', 'negative_prompt', 'seed', 'duration', 'size', 'resolution'];
  const warnings = [...shape.warnings];
  let inputReference: OpenAiVideosForm['inputReference'];
  if (model === 'wan2.7-i2v' && typeof request.image_url === 'string') {
    inputReference = 'image_url';
    used.push('image_url');
  }
  warnings.push(...fieldWarnings({ engine: target.engine, model, request, used, soundtrack: false }));
  return { fields, ...(inputReference ? { inputReference } : {}), warnings };
}
