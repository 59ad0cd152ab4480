import { kindOfFormat, type MediaFormat, mediaFormats } from '../models/media-formats.js';
import type { MediaKind } from '../models/model.js';
import { megabyte, type MediaLimits } from '../models/media-limits.js';
import type { MediaFacts } from './media-inspection.js';

/** One broken rule of one field; a task's violations are reported together. */
export interface MediaViolation {
  field: string;
  reason: string;
  message: string;
  /** What was found, and what the page allows, for clients that show them apart. */
  value?: unknown;
  limit?: unknown;
}

type Problem = 'format' | 'fileSize' | 'tooLarge' | 'dimensions' | 'duration';

/**
 * The documented reasons for images (INVALID_IMAGE_FORMAT …), and the same pattern for video and
 * audio, where no reason is published (INVALID_AUDIO_FILE is).
 */
const reasons: Record<MediaKind, Partial<Record<Problem, string>> & { format: string }> = {
  image: {
    format: 'INVALID_IMAGE_FORMAT',
    fileSize: 'IMAGE_FILE_EXCEEDS_MAX_SIZE',
    tooLarge: 'IMAGE_EXCEEDS_MAX_RESOLUTION',
    dimensions: 'INVALID_IMAGE_SIZE',
  },
  video: {
    format: 'INVALID_VIDEO_FORMAT',
    fileSize: 'VIDEO_FILE_EXCEEDS_MAX_SIZE',
    tooLarge: 'VIDEO_EXCEEDS_MAX_RESOLUTION',
    dimensions: 'INVALID_VIDEO_SIZE',
    duration: 'INVALID_VIDEO_DURATION',
  },
  audio: {
    format: 'INVALID_AUDIO_FILE',
    fileSize: 'AUDIO_FILE_EXCEEDS_MAX_SIZE',
    duration: 'INVALID_AUDIO_DURATION',
  },
};

export function mediaReason(kind: MediaKind, problem: Problem): string {
  return reasons[kind][problem] ?? reasons[kind].format;
}

function formatLabel(format: string): string {
  if (kindOfFormat(format)) return mediaFormats[format as MediaFormat].label;
  return format === 'unknown' ? 'of no recognised media format' : format.toUpperCase();
}

/** `12.3 MB (12897485 bytes)`: the rounded size a person reads, and the exact one. */
export function describeBytes(bytes: number): string {
  return `${(bytes / megabyte).toFixed(bytes < megabyte ? 2 : 1)} MB (${bytes} bytes)`;
}

/** Every rule of `limits` that the file breaks; none when it may be used. */
export function checkMediaLimits(field: string, facts: MediaFacts, limits: MediaLimits): MediaViolation[] {
  const violations: MediaViolation[] = [];
  const add = (problem: Problem, message: string, value: unknown, limit: unknown) =>
    violations.push({ field, reason: mediaReason(limits.kind, problem), message: `${field}: ${message}`, value, limit });

  if (facts.sizeBytes > limits.maxBytes) {
    add('fileSize', `the file is ${describeBytes(facts.sizeBytes)}; the limit is ${limits.maxBytes / megabyte} MB`, facts.sizeBytes, limits.maxBytes);
  }
  const accepted = limits.formats as readonly string[];
  if (!accepted.includes(facts.format)) {
    add('format', `the file is ${formatLabel(facts.format)}; accepted: ${accepted.map(formatLabel).join(', ')}`, facts.format, accepted);
    return violations;
  }
  if (facts.damage) {
    add('format', `the ${formatLabel(facts.format)} file cannot be used: ${facts.damage}`, facts.format, accepted);
    return violations;
  }
  if (limits.kind === 'image' && limits.opaqueOnly && facts.transparent) {
    add('format', 'the PNG has transparency (an alpha channel or a transparent colour); this field accepts opaque images only', 'png with transparency', 'no transparency');
  }
  if (limits.kind !== 'audio' && facts.width !== undefined && facts.height !== undefined) {
    const picture = `${facts.width}x${facts.height}`;
    const longer = Math.max(facts.width, facts.height);
    const shorter = Math.min(facts.width, facts.height);
    if (longer > limits.maxSide) {
      add('tooLarge', `${picture} pixels: a side exceeds the largest allowed, ${limits.maxSide}`, picture, limits.maxSide);
    }
    if (shorter < limits.minSide) {
      add('dimensions', `${picture} pixels: width and height must be at least ${limits.minSide}`, picture, limits.minSide);
    }
    if (limits.maxAspectRatio !== undefined && shorter > 0 && longer / shorter > limits.maxAspectRatio) {
      const ratio = `${(longer / shorter).toFixed(2)}:1`;
      add('dimensions', `${picture} pixels: an aspect ratio of ${ratio} is beyond 1:${limits.maxAspectRatio}~${limits.maxAspectRatio}:1`, ratio, `${limits.maxAspectRatio}:1`);
    }
  }
  if (limits.kind !== 'image' && facts.durationSeconds !== undefined) {
    const seconds = Math.round(facts.durationSeconds * 1000) / 1000;
    if (seconds < limits.minSeconds || seconds > limits.maxSeconds) {
      add('duration', `the ${limits.kind} lasts ${seconds} s; it must last ${limits.minSeconds} to ${limits.maxSeconds} s`, seconds, [limits.minSeconds, limits.maxSeconds]);
    }
  }
  return violations;
}
