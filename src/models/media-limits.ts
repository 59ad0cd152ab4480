/**
 * What the reference pages allow for each input medium. A model states its limits beside its
 * fields (with the presets below); the media checker only compares a file's facts with them.
 */
import { type AudioFormat, formatsOf, type ImageFormat, type VideoFormat } from './media-formats.js';

/** The pages write "10MB"; read as MiB, the reading that refuses fewer files. */
export const megabyte = 1024 * 1024;

/**
 * The largest file any field of each kind accepts (the pages' 20 MB images, 100 MB videos, 15 MB
 * audio): every video and audio field's cap, and the cap of an upload.
 */
export const largestAllowedBytes = { image: 20 * megabyte, video: 100 * megabyte, audio: 15 * megabyte } as const;

interface CommonLimits {
  maxBytes: number;
}

export interface ImageLimits extends CommonLimits {
  kind: 'image';
  formats: readonly ImageFormat[];
  /** Width and height both in [minSide, maxSide] pixels. */
  minSide: number;
  maxSide: number;
  /** Longer side over shorter side at most this (8 for "1:8~8:1"); absent when the page sets none. */
  maxAspectRatio?: number;
  /** "PNG (no transparency)": a PNG with an alpha channel or a transparent colour is refused. */
  opaqueOnly: boolean;
}

export interface VideoLimits extends CommonLimits {
  kind: 'video';
  formats: readonly VideoFormat[];
  minSide: number;
  maxSide: number;
  maxAspectRatio?: number;
  minSeconds: number;
  maxSeconds: number;
}

export interface AudioLimits extends CommonLimits {
  kind: 'audio';
  formats: readonly AudioFormat[];
  minSeconds: number;
  maxSeconds: number;
}

export type MediaLimits = ImageLimits | VideoLimits | AudioLimits;

const allImageFormats: readonly ImageFormat[] = formatsOf('image');
const allVideoFormats: readonly VideoFormat[] = formatsOf('video');

/** JPEG, PNG, BMP, WEBP with sides in [240, 8000]: every image field of the four pages. */
export function imageLimits(options: { maxMegabytes: number; maxAspectRatio?: number; opaqueOnly: boolean }): ImageLimits {
  return {
    kind: 'image',
    formats: allImageFormats,
    maxBytes: options.maxMegabytes * megabyte,
    minSide: 240,
    maxSide: 8000,
    opaqueOnly: options.opaqueOnly,
    ...(options.maxAspectRatio === undefined ? {} : { maxAspectRatio: options.maxAspectRatio }),
  };
}

/** MP4 or MOV up to 100 MB with sides in [240, 4096]: every video field of the four pages. */
export function videoLimits(options: { minSeconds: number; maxSeconds: number; maxAspectRatio?: number }): VideoLimits {
  return {
    kind: 'video',
    formats: allVideoFormats,
    maxBytes: largestAllowedBytes.video,
    minSide: 240,
    maxSide: 4096,
    minSeconds: options.minSeconds,
    maxSeconds: options.maxSeconds,
    ...(options.maxAspectRatio === undefined ? {} : { maxAspectRatio: options.maxAspectRatio }),
  };
}

/** Audio up to 15 MB: WAV and MP3, and FLAC where a page lists it. */
export function audioLimits(options: { formats: readonly AudioFormat[]; minSeconds: number; maxSeconds: number }): AudioLimits {
  return { kind: 'audio', formats: options.formats, maxBytes: largestAllowedBytes.audio, minSeconds: options.minSeconds, maxSeconds: options.maxSeconds };
}

