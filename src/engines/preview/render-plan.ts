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
  picture: Picture;
  /** Absent: the output has no audio stream at all. */
  soundtrack?: Soundtrack;
  watermark: boolean;
}

export type Picture =
  /** t2v: an animated scene whose colours and motion come from the seed. */
  | { kind: 'procedural' }
  /** i2v: one frame of the input (an image's only frame, a clip's last) with a slow zoom. */
  | { kind: 'zoom'; path: string; frame: 'first' | 'last' }
  /** r2v: the first frame of a reference placed over the seeded scene. */
  | { kind: 'reference'; path: string }
  /** videoedit: the input video fitted to the output, `sourceSeconds` long. */
  | { kind: 'footage'; path: string; sourceSeconds: number };

export type Soundtrack =
  /** Seeded tones and noise. */
  | { kind: 'generated' }
  /** The audio of a file, cut at the output's end or followed by silence. */
  | { kind: 'file'; path: string };

export interface PlanSettings {
  frameRate: number;
}

/** The longest input video any model accepts: videoedit's "duration 0" never renders more. */
const longestFootageSeconds = 10;

interface Content {
  size: Dimensions;
  seconds: number;
  picture: Picture;
  soundtrack?: Soundtrack;
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
  const frames = Math.max(1, Math.round(content.seconds * settings.frameRate));
  return {
    ...content.size,
    frameRate: settings.frameRate,
    frames,
    durationSeconds: frames / settings.frameRate,
    seed: job.seed,
    picture: content.picture,
    ...(content.soundtrack ? { soundtrack: content.soundtrack } : {}),
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
  return {
    size: tierAtAspect(requiredString(job.request, 'resolution') as Tier, videoOf(probes, field)),
    seconds: requiredNumber(job.request, 'duration'),
    picture: { kind: 'zoom', path, frame: field === 'image_url' ? 'first' : 'last' },
    soundtrack: fileOrGenerated(job, 'driving_audio_url'),
  };
}

/** i2v starts from `image_url` or, for a continuation, from `first_clip_url`: exactly one is sent. */
function i2vSourceField(job: EngineJob): string {
  return job.media.image_url ? 'image_url' : 'first_clip_url';
}

function r2vContent(job: EngineJob): Content {
  const reference = firstReference(job);
  return {
    size: parseSize(requiredString(job.request, 'size')),
    seconds: requiredNumber(job.request, 'duration'),
    picture: reference ? { kind: 'reference', path: reference } : { kind: 'procedural' },
    soundtrack: job.request.audio === false ? undefined : { kind: 'generated' },
  };
}

/** The first reference image in body order, else the first reference video. */
function firstReference(job: EngineJob): string | undefined {
  const references = Object.values(job.media)
    .map((media) => ({ media, index: /^media\[(\d+)\]\.url$/.exec(media.field)?.[1] }))
    .filter((entry) => entry.index !== undefined)
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map((entry) => entry.media);
  return (references.find((media) => media.kind === 'image') ?? references.find((media) => media.kind === 'video'))
    ?.path;
}

function videoeditContent(job: EngineJob, probes: Record<string, MediaInfo>): Content {
  const input = probes.video_url;
  const tier = requiredString(job.request, 'resolution') as Tier;
  const ratio = job.request.ratio as Ratio | undefined;
  const requested = requiredNumber(job.request, 'duration');
  const sourceSeconds = input?.durationSeconds ?? 0;
  if (requested === 0 && !(sourceSeconds > 0)) throw new Error('the input video_url states no duration');
  const path = mediaPath(job, 'video_url');
  return {
    size: ratio ? videoeditRatioSize(tier, ratio) : tierAtAspect(tier, videoOf(probes, 'video_url')),
    seconds: requested > 0 ? requested : Math.min(sourceSeconds, longestFootageSeconds),
    picture: { kind: 'footage', path, sourceSeconds },
    soundtrack: input?.audio ? { kind: 'file', path } : { kind: 'generated' },
  };
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
    throw new Error(`the input ${field} has no picture whose size can be read`);
  }
  return video;
}

/** Validation applied the schema's defaults, so a missing field is a bug upstream, not a choice. */
function requiredString(request: ModelRequest, name: string): string {
  const value = request[name];
  if (typeof value !== 'string') throw new Error(`the request has no ${name}`);
  return value;
}

function requiredNumber(request: ModelRequest, name: string): number {
  const value = request[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`the request has no ${name}`);
  return value;
}
