import type { I2vRequest } from '../../models/i2v.js';
import type { ModelId, ModelRequest } from '../../models/model.js';
import { requestedDimensions } from '../../models/output-size.js';
import type { R2vRequest } from '../../models/r2v.js';
import type { VideoeditRequest } from '../../models/videoedit.js';
import { EngineUnavailable } from '../../spec/engine.js';
import { fieldWarnings } from '../open-wan/field-warnings.js';
import type { InputShape } from '../open-wan/input-shapes.js';
import { shapeVideo } from '../open-wan/video-shape.js';
import type { WanProfile } from '../open-wan/wan-profile.js';
import type { Placeholder, Variant, Workflow } from './comfyui-workflow.js';

/**
 * Our request → which workflow ComfyUI runs and what goes into its placeholders: the variant
 * (first + last frame is FLF2V, a driving audio S2V, references VACE), the text and numbers,
 * and which input file fills each file placeholder. Pure; every field of the request is used
 * or named in a warning. A request no workflow of the engine can carry out is refused with
 * EngineUnavailable, so that the next engine of the route may take it.
 */

export interface PromptPlan {
  workflow: Workflow;
  values: Partial<Record<Placeholder, string | number>>;
  /** Input files to upload, by placeholder: the request field (JSON path) whose file it is. */
  files: Partial<Record<Placeholder, string>>;
  warnings: string[];
}

export interface PlanTarget {
  engine: string;
  profile: WanProfile;
  workflows: Partial<Record<Variant, Workflow>>;
}

interface Choice {
  variant: Variant;
  files: Partial<Record<Placeholder, string>>;
  /** Request fields the choice uses. */
  used: string[];
  warnings: string[];
  /** The video carries the driving audio. */
  soundtrack?: boolean;
}

export function planPrompt(
  target: PlanTarget,
  model: ModelId,
  request: ModelRequest,
  seed: number,
  taskId: string,
  inputOf: (field: string) => InputShape,
): PromptPlan {
  const choice = choose(target.engine, model, request);
  const workflow = target.workflows[choice.variant];
  if (workflow === undefined) throw refusal(target.engine, `it has no ${choice.variant} workflow`);
  // A workflow that takes a reference image the request does not give cannot run.
  for (const name of workflow.uses) {
    if (name in fileFields && choice.files[name] === undefined) {
      throw refusal(target.engine, `its ${choice.variant} workflow needs {{${name}}} and the request gives none`);
    }
  }
  const files = Object.fromEntries(Object.entries(choice.files).filter(([name]) => workflow.uses.has(name as Placeholder)));
  const unusedFiles = Object.entries(choice.files).filter(([name]) => !workflow.uses.has(name as Placeholder));
  const seconds = videoSeconds(request, inputOf);
  const shape = shapeVideo(target.engine, target.profile, requestedDimensions(model, request, inputOf), seconds);
  const used = [...choice.used.filter((field) => !unusedFiles.some(([, unused]) => unused === field))];
  used.push('prompt', 'negative_prompt', 'seed', 'duration', 'size', 'resolution', 'ratio');
  return {
    workflow,
    values: {
      prompt: typeof request.prompt === 'string' ? request.prompt : '',
      negative_prompt: typeof request.negative_prompt === 'string' ? request.negative_prompt : '',
      seed,
      width: shape.width,
      height: shape.height,
      length: shape.frames,
      fps: shape.fps,
      filename_prefix: `wan-api/${taskId}`,
    },
    files,
    warnings: [
      ...shape.warnings,
      ...choice.warnings,
      ...fieldWarnings({ engine: target.engine, model, request, used, soundtrack: choice.soundtrack ?? false }),
    ],
  };
}

/** Placeholders that take a file (and the request must give it when the workflow has them). */
const fileFields: Partial<Record<Placeholder, true>> = {
  first_frame: true,
  last_frame: true,
  driving_audio: true,
  reference_image: true,
  input_video: true,
};

function choose(engine: string, model: ModelId, request: ModelRequest): Choice {
  switch (model) {
    case 'wan2.7-t2v':
      return { variant: 't2v', files: {}, used: [], warnings: [] };
    case 'wan2.7-i2v':
      return chooseI2v(engine, request as unknown as I2vRequest);
    case 'wan2.7-r2v':
      return chooseR2v(engine, request as unknown as R2vRequest);
    case 'wan2.7-videoedit': {
      const edit = request as unknown as VideoeditRequest;
      const used = ['video_url', 'audio_setting'];
      const files: Choice['files'] = { input_video: 'video_url' };
      if (edit.reference_image_url !== undefined) {
        files.reference_image = 'reference_image_url';
        used.push('reference_image_url');
      }
      // The workflow keeps the input's soundtrack, which both audio settings allow.
      return { variant: 'videoedit', files, used, warnings: [] };
    }
  }
}

function chooseI2v(engine: string, request: I2vRequest): Choice {
  if (request.first_clip_url !== undefined) {
    throw refusal(engine, 'the open Wan workflows start from a first frame and cannot continue a clip (first_clip_url)');
  }
  if (request.driving_audio_url !== undefined) {
    const warnings =
      request.last_frame_url === undefined ? [] : [`last_frame_url: ${engine} drives the video with the audio (Wan S2V), which takes no last frame; it was not used`];
    return {
      variant: 's2v',
      files: { first_frame: 'image_url', driving_audio: 'driving_audio_url' },
      used: ['image_url', 'driving_audio_url', 'last_frame_url'],
      warnings,
      soundtrack: true,
    };
  }
  if (request.last_frame_url !== undefined) {
    return { variant: 'flf2v', files: { first_frame: 'image_url', last_frame: 'last_frame_url' }, used: ['image_url', 'last_frame_url'], warnings: [] };
  }
  return { variant: 'i2v', files: { first_frame: 'image_url' }, used: ['image_url'], warnings: [] };
}

/**
 * VACE takes one reference picture: the first `reference_image` of `media`. What else `media`
 * holds is named in the warnings; characterN in the prompt stays as written.
 */
function chooseR2v(engine: string, request: R2vRequest): Choice {
  const first = request.media.findIndex((item) => item.type === 'reference_image');
  if (first < 0) throw refusal(engine, 'its reference-to-video workflow (Wan VACE) needs a reference_image in media');
  const warnings: string[] = [];
  request.media.forEach((item, index) => {
    if (index !== first) warnings.push(`media[${index}] (${item.type}): ${engine} takes one reference image (media[${first}]); it was not used`);
    if (item.reference_voice !== undefined) warnings.push(`media[${index}].reference_voice: ${engine} makes silent video; the voice was not used`);
  });
  if (request.shot_type === 'multi') warnings.push(`shot_type multi: ${engine} makes a single shot`);
  return { variant: 'r2v', files: { reference_image: `media[${first}].url` }, used: ['media', 'shot_type'], warnings };
}

/** videoedit's 0 keeps the input video's length. */
function videoSeconds(request: ModelRequest, inputOf: (field: string) => InputShape): number {
  if (typeof request.duration === 'number' && request.duration > 0) return request.duration;
  return Math.max(1, inputOf('video_url').seconds);
}

function refusal(engine: string, why: string): EngineUnavailable {
  return new EngineUnavailable(engine, `${engine} cannot carry out this task: ${why}`);
}
