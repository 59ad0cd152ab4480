import type { MediaInfo } from '../../media/probe.js';
import type { ModelRequest } from '../../models/model.js';
import {
  parseSize,
  tierAtAspect,
  videoeditRatioSize,
  type Dimensions,
  type Ratio,
  type Tier,
} from '../../models/output-size.js';
import type { EngineJob } from '../../spec/engine.js';
import { styleOfPrompt, type EditStyle } from './edit-styles.js';
import { RenderFailure } from './render-failure.js';
import { captionText, extendPrompt } from './prompt-extension.js';

/**
 * What the preview renderer draws for a job, decided without running anything: output size,
 * length, picture and soundtrack. The engine probes the inputs listed by `fieldsToProbe` and
 * hands their summaries in; `ffmpeg-arguments.ts` turns the plan into a command line.
 */
export interface RenderPlan {
  width: number;
  height: number;
  frameRate: number;
  frames: number;
  /** `frames / frameRate`: the exact length of the output. */
  durationSeconds: number;
  seed: number;
  /** The prompt as sent (empty when none): it varies the scene's colours and motion with the seed. */
  prompt: string;
  /** The prompt as rendered: `prompt`, or its deterministic extension when `prompt_extend` is on. */
  actualPrompt: string;
  /** Recorded in the result's `extra`; a procedural render has nothing to steer away from. */
  negativePrompt: string;
  /** Text drawn over a t2v picture when a font is available; filtergraph-safe (see `captionText`). */
  caption?: string;
  picture: Picture;
  /** Absent: the output has no audio stream at all. */
  soundtrack?: Soundtrack;
  watermark: boolean;
}

export type Picture =
  /** t2v: an animated scene whose colours and motion come from the seed and the prompt. */
  | { kind: 'procedural' }
  /** i2v: one frame of the input (an image's only frame, a clip's last) with a slow zoom. */
  | { kind: 'zoom'; path: string; frame: 'first' | 'last' }
  /** i2v first + last frame: a zoom into `first` that dissolves into `last`, which is the final frame. */
  | { kind: 'transition'; first: string; last: string }
  /** r2v: the references (first frames, in `media` order) over the seeded scene, in one or more shots. */
  | { kind: 'cast'; references: string[]; shots: Shot[] }
  /** videoedit: the input fitted to the output in a style, reference images inset, `sourceSeconds` long. */
  | { kind: 'footage'; path: string; sourceSeconds: number; style: EditStyle; references: string[] };

/** One shot of an r2v render: frames [startFrame, endFrame) showing `show` (indexes into the references). */
export interface Shot {
  startFrame: number;
  endFrame: number;
  show: number[];
  /** `close` fills most of the height with its reference; `wide` places every shown one side by side. */
  framing: 'wide' | 'close';
}

export type Soundtrack =
  /** Seeded tones and noise. */
  | { kind: 'generated' }
  /** The audio of a file, cut at the output's end or followed by silence. */
  | { kind: 'file'; path: string }
  /** Character voices (r2v `reference_voice`), each from `startSeconds` for at most `seconds`. */
  | { kind: 'voices'; voices: Voice[] }
  /** A silent stereo track (videoedit `origin` of an input that has no audio). */
  | { kind: 'silence' };

export interface Voice {
  path: string;
  startSeconds: number;
  seconds: number;
}

export interface PlanSettings {
  frameRate: number;
}

/** The longest input video any model accepts: videoedit's "duration 0" never renders more. */
const longestFootageSeconds = 10;

type Timed<T> = T | ((frames: number, frameRate: number) => T);

interface Content {
  size: Dimensions;
  seconds: number;
  /** A picture, or one that needs the frame count (r2v shots). */
  picture: Timed<Picture>;
  soundtrack?: Timed<Soundtrack>;
}

/** The input fields whose probe `planRender` reads: the ones that set the output's size or length. */
export function fieldsToProbe(job: EngineJob): string[] {
  switch (job.model) {
    case 'wan2.7-i2v':
      return [i2vSourceField(job)];
    case 'wan2.7-videoedit':
      return ['video_url'];
    case 'wan2.7-t2v':
    case 'wan2.7-r2v':
      return [];
  }
}

export function planRender(job: EngineJob, probes: Record<string, MediaInfo>, settings: PlanSettings): RenderPlan {
  const content = contentOf(job, probes);
  const { frameRate } = settings;
  const frames = Math.max(1, Math.round(content.seconds * frameRate));
  const timed = <T>(value: Timed<T>): T =>
    typeof value === 'function' ? (value as (frames: number, frameRate: number) => T)(frames, frameRate) : value;
  const prompt = optionalString(job.request, 'prompt');
  const caption = job.model === 'wan2.7-t2v' ? captionText(prompt) : '';
  return {
    ...content.size,
    frameRate,
    frames,
    durationSeconds: frames / frameRate,
    seed: job.seed,
    prompt,
    actualPrompt: extendPrompt(prompt, job.seed, job.request.prompt_extend === true),
    negativePrompt: optionalString(job.request, 'negative_prompt'),
    ...(caption ? { caption } : {}),
    picture: timed(content.picture),
    ...(content.soundtrack ? { soundtrack: timed(content.soundtrack) } : {}),
    watermark: job.request.watermark === true,
  };
}

function contentOf(job: EngineJob, probes: Record<string, MediaInfo>): Content {
  switch (job.model) {
    case 'wan2.7-t2v':
      return t2vContent(job);
    case 'wan2.7-i2v':
      return i2vContent(job, probes);
    case 'wan2.7-r2v':
      return r2vContent(job);
    case 'wan2.7-videoedit':
      return videoeditContent(job, probes);
  }
}

function t2vContent(job: EngineJob): Content {
  return {
    size: parseSize(requiredString(job.request, 'size')),
    seconds: requiredNumber(job.request, 'duration'),
    picture: { kind: 'procedural' },
    soundtrack: fileOrGenerated(job, 'audio_url'),
  };
}

function i2vContent(job: EngineJob, probes: Record<string, MediaInfo>): Content {
  const field = i2vSourceField(job);
  const path = mediaPath(job, field);
  const last = job.media.last_frame_url;
  return {
    size: tierAtAspect(requiredString(job.request, 'resolution') as Tier, videoOf(probes, field)),
    seconds: requiredNumber(job.request, 'duration'),
    picture:
      field === 'image_url' && last
        ? { kind: 'transition', first: path, last: last.path }
        : { kind: 'zoom', path, frame: field === 'image_url' ? 'first' : 'last' },
    soundtrack: fileOrGenerated(job, 'driving_audio_url'),
  };
}

/** i2v starts from `image_url` or, for a continuation, from `first_clip_url`: exactly one is sent. */
function i2vSourceField(job: EngineJob): string {
  return job.media.image_url ? 'image_url' : 'first_clip_url';
}

function r2vContent(job: EngineJob): Content {
  const items = mediaItems(job);
  const references = items.map((item) => item.path);
  const multi = job.request.shot_type === 'multi';
  const voices = items.map((item) => item.voice);
  const shotsOf = (frames: number) => castShots(references.length, frames, multi);
  return {
    size: parseSize(requiredString(job.request, 'size')),
    seconds: requiredNumber(job.request, 'duration'),
    picture: (frames) => ({ kind: 'cast', references, shots: shotsOf(frames) }),
    soundtrack:
      job.request.audio === false
        ? undefined
        : voices.some((voice) => voice !== undefined)
          ? (frames, frameRate) => ({ kind: 'voices', voices: castVoices(voices, shotsOf(frames), frameRate) })
          : { kind: 'generated' },
  };
}

/** The `media` items in body order: each one's downloaded file and, if sent, its voice's. */
function mediaItems(job: EngineJob): { path: string; voice?: string }[] {
  return Object.values(job.media)
    .map((media) => ({ media, index: /^media\[(\d+)\]\.url$/.exec(media.field)?.[1] }))
    .filter((entry) => entry.index !== undefined)
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map(({ media, index }) => ({ path: media.path, voice: job.media[`media[${index}].reference_voice`]?.path }));
}

/**
 * The shots of an r2v render. `single`: one shot, every reference side by side in `media` order.
 * `multi`: hard cuts between equal shots, one per reference in order (at least two: a single
 * reference gets a wide shot and a close-up), framings alternating wide and close.
 */
export function castShots(references: number, frames: number, multi: boolean): Shot[] {
  const all = Array.from({ length: references }, (_, index) => index);
  if (!multi || references === 0) return [{ startFrame: 0, endFrame: frames, show: all, framing: 'wide' }];
  const count = Math.min(frames, Math.max(2, references));
  return Array.from({ length: count }, (_, index) => ({
    startFrame: Math.round((index * frames) / count),
    endFrame: Math.round(((index + 1) * frames) / count),
    show: [index % references],
    framing: index % 2 === 0 ? ('wide' as const) : ('close' as const),
  }));
}

/** A character's voice plays from the first shot showing them for as long as it lasts (all the video in `single`). */
function castVoices(voices: (string | undefined)[], shots: Shot[], frameRate: number): Voice[] {
  return voices.flatMap((path, reference) => {
    const shot = shots.find((candidate) => candidate.show.includes(reference));
    if (!path || !shot) return [];
    return [{ path, startSeconds: shot.startFrame / frameRate, seconds: (shot.endFrame - shot.startFrame) / frameRate }];
  });
}

function videoeditContent(job: EngineJob, probes: Record<string, MediaInfo>): Content {
  const input = probes.video_url;
  const tier = requiredString(job.request, 'resolution') as Tier;
  const ratio = job.request.ratio as Ratio | undefined;
  const requested = requiredNumber(job.request, 'duration');
  const sourceSeconds = input?.durationSeconds ?? 0;
  if (requested === 0 && !(sourceSeconds > 0)) throw new RenderFailure('video_url states no duration', ['video_url']);
  const path = mediaPath(job, 'video_url');
  return {
    size: ratio ? videoeditRatioSize(tier, ratio) : tierAtAspect(tier, videoOf(probes, 'video_url')),
    seconds: requested > 0 ? requested : Math.min(sourceSeconds, longestFootageSeconds),
    picture: {
      kind: 'footage',
      path,
      sourceSeconds,
      style: styleOfPrompt(optionalString(job.request, 'prompt')),
      references: referenceImageFields.flatMap((field) => (job.media[field] ? [job.media[field].path] : [])),
    },
    soundtrack: videoeditSoundtrack(job, path, input?.audio !== undefined),
  };
}

const referenceImageFields = ['reference_image_url', 'reference_image_url_2', 'reference_image_url_3'];

/** Words of a prompt that ask for new sound: with `audio_setting: auto` they replace the input's audio. */
export const soundWords =
  /\b(music|musical|soundtrack|sound|sounds|audio|song|songs|score|sing|singing|voice|narration)\b|音乐|配乐|声音|音效|歌/i;

/**
 * `origin` keeps the input's audio (silence when it has none). `auto` keeps it too, unless the
 * prompt asks for sound (see `soundWords`) or the input has none: then a generated soundtrack.
 */
function videoeditSoundtrack(job: EngineJob, path: string, inputHasAudio: boolean): Soundtrack {
  if (job.request.audio_setting === 'origin') return inputHasAudio ? { kind: 'file', path } : { kind: 'silence' };
  return inputHasAudio && !soundWords.test(optionalString(job.request, 'prompt'))
    ? { kind: 'file', path }
    : { kind: 'generated' };
}

function fileOrGenerated(job: EngineJob, field: string): Soundtrack {
  const audio = job.media[field];
  return audio ? { kind: 'file', path: audio.path } : { kind: 'generated' };
}

function mediaPath(job: EngineJob, field: string): string {
  const media = job.media[field];
  if (!media) throw new Error(`the input ${field} was not downloaded`);
  return media.path;
}

function videoOf(probes: Record<string, MediaInfo>, field: string): Dimensions {
  const video = probes[field]?.video;
  if (!video || video.width <= 0 || video.height <= 0) {
    throw new RenderFailure(`${field} has no picture whose size can be read`, [field]);
  }
  return video;
}

/** Validation applied the schema's defaults, so a missing field is a bug upstream, not a choice. */
function requiredString(request: ModelRequest, name: string): string {
  const value = request[name];
  if (typeof value !== 'string') throw new Error(`the request has no ${name}`);
  return value;
}

function optionalString(request: ModelRequest, name: string): string {
  const value = request[name];
  return typeof value === 'string' ? value : '';
}

function requiredNumber(request: ModelRequest, name: string): number {
  const value = request[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`the request has no ${name}`);
  return value;
}
