import type { Dimensions } from '../../models/output-size.js';

/**
 * What an open Wan checkpoint (Wan 2.1 / 2.2, served on one's own GPUs) can render: its frame
 * rate, the sizes it was trained at, and its longest clip. A request is fitted to it (see
 * video-shape.ts), and every difference is reported in the task's warnings.
 */
export interface WanProfile {
  /** Frames per second the checkpoint generates at. */
  fps: number;
  /** The sizes it renders; a requested size is made at the nearest of them. */
  sizes: readonly Dimensions[];
  /** Longest clip in frames; Wan's frame counts are 4k+1. */
  maxFrames: number;
}

function sizes(...list: string[]): Dimensions[] {
  return list.map((text) => {
    const [width, height] = text.split('*').map(Number);
    return { width, height };
  });
}

/**
 * The 14B checkpoints (Wan 2.2 T2V/I2V-A14B, S2V-14B; Wan 2.1 14B, FLF2V and VACE): 480P and
 * 720P at 16 fps, 81 frames (5 s). The 720P sizes are those of the API's 720P tier, all
 * multiples of 16 as the latent grid needs.
 */
export const wan14bProfile: WanProfile = {
  fps: 16,
  sizes: sizes('1280*720', '720*1280', '960*960', '1088*832', '832*1088', '832*480', '480*832'),
  maxFrames: 81,
};

/** Wan 2.2 TI2V-5B: 1280*704 or 704*1280 at 24 fps, 121 frames (5 s). */
export const wan5bProfile: WanProfile = { fps: 24, sizes: sizes('1280*704', '704*1280'), maxFrames: 121 };

/** Wan 2.1 T2V-1.3B: 480P only. */
export const wan1_3bProfile: WanProfile = { fps: 16, sizes: sizes('832*480', '480*832'), maxFrames: 81 };

/** `"1280*720"` or `"1280x720"` as dimensions; undefined when it reads as neither. */
export function parseDimensions(text: string): Dimensions | undefined {
  const match = /^(\d{2,5})\s*[*x]\s*(\d{2,5})$/.exec(text.trim());
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

export function showDimensions({ width, height }: Dimensions): string {
  return `${width}*${height}`;
}
