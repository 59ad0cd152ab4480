import type { Dimensions } from '../../models/output-size.js';
import { showDimensions, type WanProfile } from './wan-profile.js';

/** The picture and length a request is rendered at on an open Wan checkpoint. */
export interface VideoShape {
  width: number;
  height: number;
  /** Frame count, 4k+1 as Wan needs. */
  frames: number;
  fps: number;
  /** What differs from the request, as sentences for `extra.warnings`. */
  warnings: string[];
}

/** The shortest clip worth making: one latent frame after the first. */
const fewestFrames = 5;

/**
 * Fits a request to a checkpoint: `wanted` (the request's size, or its tier at the input's
 * aspect ratio) becomes the nearest size the checkpoint renders, and `seconds` a frame count
 * at its frame rate, no longer than its longest clip. Pure.
 */
export function shapeVideo(engine: string, profile: WanProfile, wanted: Dimensions, seconds: number): VideoShape {
  const warnings: string[] = [];
  const size = nearestSize(wanted, profile.sizes);
  if (size.width !== wanted.width || size.height !== wanted.height) {
    warnings.push(
      `size ${showDimensions(wanted)}: ${engine} does not render it; the video was made at ${showDimensions(size)}, the nearest size it renders`,
    );
  }
  let frames = Math.max(fewestFrames, 4 * Math.round((seconds * profile.fps) / 4) + 1);
  if (frames > profile.maxFrames) {
    frames = profile.maxFrames;
    warnings.push(
      `duration ${seconds} s: ${engine} makes at most ${profile.maxFrames} frames at ${profile.fps} fps; ` +
        `the video lasts ${round2(frames / profile.fps)} s`,
    );
  }
  return { width: size.width, height: size.height, frames, fps: profile.fps, warnings };
}

/**
 * The size closest in aspect ratio, then in area (both compared as ratios, so that 720P and
 * 1080P of the same shape are as far apart at any scale). Ties go to the earlier size.
 */
function nearestSize(wanted: Dimensions, sizes: readonly Dimensions[]): Dimensions {
  let best = sizes[0];
  let bestScore = [Infinity, Infinity];
  for (const size of sizes) {
    const score = [
      Math.abs(Math.log(size.width / size.height / (wanted.width / wanted.height))),
      Math.abs(Math.log((size.width * size.height) / (wanted.width * wanted.height))),
    ];
    // Aspect ratios within 2 % count as the same shape: 1088*832 is 4:3 as much as 1104*832.
    const better = score[0] < bestScore[0] - 0.02 || (Math.abs(score[0] - bestScore[0]) <= 0.02 && score[1] < bestScore[1]);
    if (better) {
      best = size;
      bestScore = score;
    }
  }
  return best;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
