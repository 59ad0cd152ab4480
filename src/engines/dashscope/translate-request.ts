import type { I2vRequest } from '../../models/i2v.js';
import type { ModelId, ModelRequest } from '../../models/model.js';
import type { Ratio, Tier, sizeOptions } from '../../models/output-size.js';
import type { R2vRequest } from '../../models/r2v.js';
import type { T2vRequest } from '../../models/t2v.js';
import type { VideoeditRequest } from '../../models/videoedit.js';

/**
 * Our request → the body of DashScope's video-synthesis call, for the four Wan 2.7 models. Pure:
 * the same request and seed always give the same body and the same warnings; the warnings are
 * kept in the operation, for the result.
 *
 * Every field of our request is either sent, translated, or named in a warning: a paid generation
 * never silently ignores a setting. See docs/upstream-engines.md for the table.
 */

export interface DashScopeMediaItem {
  type: 'first_frame' | 'last_frame' | 'driving_audio' | 'first_clip' | 'reference_image' | 'reference_video' | 'video';
  url: string;
  reference_voice?: string;
}

export interface DashScopeInput {
  prompt?: string;
  negative_prompt?: string;
  audio_url?: string;
  media?: DashScopeMediaItem[];
}

export interface DashScopeParameters {
  resolution?: Tier;
  ratio?: Ratio;
  duration?: number;
  prompt_extend?: boolean;
  watermark?: boolean;
  audio_setting?: string;
  /** Always the job's seed, so that the seed the API reports is the one the video was made with. */
  seed: number;
}

export interface DashScopeRequest {
  model: ModelId;
  input: DashScopeInput;
  parameters: DashScopeParameters;
}

export interface Translation {
  body: DashScopeRequest;
  /** Human sentences for `extra.warnings`: what the upstream could not do as asked. */
  warnings: string[];
}

type Size = (typeof sizeOptions)[number];

/** The t2v/r2v size table of our pages, read as DashScope's resolution tier and aspect ratio. */
export const sizeToResolutionAndRatio: Record<Size, { resolution: Tier; ratio: Ratio }> = {
  '1280*720': { resolution: '720P', ratio: '16:9' },
  '720*1280': { resolution: '720P', ratio: '9:16' },
  '960*960': { resolution: '720P', ratio: '1:1' },
  '1088*832': { resolution: '720P', ratio: '4:3' },
  '832*1088': { resolution: '720P', ratio: '3:4' },
  '1920*1080': { resolution: '1080P', ratio: '16:9' },
  '1080*1920': { resolution: '1080P', ratio: '9:16' },
  '1440*1440': { resolution: '1080P', ratio: '1:1' },
  '1632*1248': { resolution: '1080P', ratio: '4:3' },
  '1248*1632': { resolution: '1080P', ratio: '3:4' },
};

/**
 * Wan 2.7 has no shot-type parameter: shots are asked for in the prompt, in plain words. Our
 * pages give shot_type priority over the prompt, so the sentence closes the prompt.
 */
export const shotInstructions = {
  single: 'Generate a single-shot video.',
  multi: 'Generate a multi-shot video.',
} as const;

/** Fields of our requests that are options of this server, not of the model: never sent. */
const serverFields = new Set(['extra']);

export function translateRequest(model: ModelId, request: ModelRequest, seed: number): Translation {
  const warnings: string[] = [];
  const { input, parameters, consumed } = translators[model](request, warnings);
  for (const field of Object.keys(request)) {
    if (!consumed.includes(field) && !serverFields.has(field)) {
      warnings.push(`${field} has no counterpart at DashScope and was not sent`);
    }
  }
  return { body: { model, input, parameters: { ...parameters, seed } }, warnings };
}

interface ModelTranslation {
  input: DashScopeInput;
  parameters: Omit<DashScopeParameters, 'seed'>;
  /** The request fields this translation sent or translated; any other field gets a warning. */
  consumed: readonly string[];
}

type Translator = (request: ModelRequest, warnings: string[]) => ModelTranslation;

const translators: Record<ModelId, Translator> = {
  'wan2.7-t2v': (request) => translateT2v(request as T2vRequest),
  'wan2.7-i2v': (request) => translateI2v(request as I2vRequest),
  'wan2.7-r2v': (request, warnings) => translateR2v(request as R2vRequest, warnings),
  'wan2.7-videoedit': (request) => translateVideoedit(request as VideoeditRequest),
};

/** Fields sent the same way by every model that has them. `seed` is set by translateRequest: the job's. */
const commonFields = ['prompt', 'negative_prompt', 'duration', 'watermark', 'prompt_extend', 'seed'] as const;

function commonInput(request: { prompt?: string; negative_prompt?: string }): DashScopeInput {
  return defined({ prompt: request.prompt, negative_prompt: request.negative_prompt });
}

function commonParameters(request: { duration?: number; watermark?: boolean; prompt_extend?: boolean }) {
  return defined({ duration: request.duration, prompt_extend: request.prompt_extend, watermark: request.watermark });
}

function translateT2v(request: T2vRequest): ModelTranslation {
  return {
    input: { ...commonInput(request), ...defined({ audio_url: request.audio_url }) },
    parameters: { ...sizeParameters(request.size), ...commonParameters(request) },
    consumed: [...commonFields, 'audio_url', 'size'],
  };
}

function translateI2v(request: I2vRequest): ModelTranslation {
  const media: DashScopeMediaItem[] = [];
  if (request.image_url !== undefined) media.push({ type: 'first_frame', url: request.image_url });
  if (request.first_clip_url !== undefined) media.push({ type: 'first_clip', url: request.first_clip_url });
  if (request.last_frame_url !== undefined) media.push({ type: 'last_frame', url: request.last_frame_url });
  if (request.driving_audio_url !== undefined) media.push({ type: 'driving_audio', url: request.driving_audio_url });
  return {
    input: { ...commonInput(request), media },
    parameters: { ...defined({ resolution: request.resolution }), ...commonParameters(request) },
    consumed: [...commonFields, 'image_url', 'first_clip_url', 'last_frame_url', 'driving_audio_url', 'resolution'],
  };
}

function translateR2v(request: R2vRequest, warnings: string[]): ModelTranslation {
  const media = request.media.map((item): DashScopeMediaItem => ({
    type: item.type,
    url: item.url,
    ...defined({ reference_voice: item.reference_voice }),
  }));
  const prompt = withShotInstruction(renameCharacters(request.prompt, request.media, warnings), request.shot_type);
  const sizes = sizeParameters(request.size);
  if (request.media.some((item) => item.type === 'first_frame') && sizes.ratio !== undefined) {
    warnings.push(
      `size ${request.size}: its ${sizes.ratio} aspect ratio is not honoured because media holds a first_frame; ` +
        'DashScope gives the video the aspect ratio of the first frame',
    );
  }
  if (request.audio === false) {
    warnings.push('audio: false has no counterpart at DashScope (wan2.7-r2v always generates sound); the video has a soundtrack');
  }
  return {
    input: { prompt, ...defined({ negative_prompt: request.negative_prompt }), media },
    parameters: { ...sizes, ...commonParameters(request) },
    consumed: [...commonFields, 'media', 'size', 'shot_type', 'audio'],
  };
}

function translateVideoedit(request: VideoeditRequest): ModelTranslation {
  const references = [request.reference_image_url, request.reference_image_url_2, request.reference_image_url_3];
  const media: DashScopeMediaItem[] = [
    { type: 'video', url: request.video_url },
    ...references.filter((url) => url !== undefined).map((url): DashScopeMediaItem => ({ type: 'reference_image', url })),
  ];
  const parameters = {
    ...defined({ resolution: request.resolution, ratio: request.ratio, audio_setting: request.audio_setting }),
    ...commonParameters(request),
  };
  // 0 keeps the input's length, which is what DashScope does when duration is left out.
  if (request.duration === 0) delete parameters.duration;
  return {
    input: { ...commonInput(request), media },
    parameters,
    consumed: [
      ...commonFields,
      'video_url',
      'reference_image_url',
      'reference_image_url_2',
      'reference_image_url_3',
      'resolution',
      'ratio',
      'audio_setting',
    ],
  };
}

function sizeParameters(size: string | undefined): { resolution?: Tier; ratio?: Ratio } {
  return size === undefined ? {} : sizeToResolutionAndRatio[size as Size];
}

/**
 * Our r2v prompts name `media` items `character1…N`, counted over the whole array; DashScope's
 * name them `Image k` and `Video k`, counted per type, with no name for a first_frame item.
 */
function renameCharacters(prompt: string, media: R2vRequest['media'], warnings: string[]): string {
  const names: string[] = [];
  let images = 0;
  let videos = 0;
  for (const item of media) {
    if (item.type === 'reference_image') names.push(`Image ${++images}`);
    else if (item.type === 'reference_video') names.push(`Video ${++videos}`);
    else names.push('the first frame');
  }
  const noted = new Set<string>();
  return prompt.replace(/\bcharacter(\d+)\b/gi, (mention: string, digits: string) => {
    const index = Number(digits) - 1;
    const name = names[index];
    if (name === undefined) {
      note(`${mention} names no item of media (it holds ${media.length}); it was sent as written`);
      return mention;
    }
    if (media[index].type === 'first_frame') {
      note(`${mention} is media[${index}], a first_frame, which DashScope cannot name as a character; it was sent as "${name}"`);
    }
    return name;
  });

  function note(warning: string): void {
    if (!noted.has(warning)) warnings.push(warning);
    noted.add(warning);
  }
}

function withShotInstruction(prompt: string, shotType: R2vRequest['shot_type']): string {
  if (shotType === undefined) return prompt;
  const trimmed = prompt.trimEnd();
  if (trimmed === '') return shotInstructions[shotType];
  const ended = /[.!?。！？]$/.test(trimmed) ? trimmed : `${trimmed}.`;
  return `${ended} ${shotInstructions[shotType]}`;
}

/** `object` without its undefined entries, so that absent fields are absent from the JSON. */
function defined<T extends Record<string, unknown>>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
