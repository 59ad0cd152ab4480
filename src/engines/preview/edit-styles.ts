import { decimal, filter } from './filter-graph.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * The styles videoedit's preview applies, chosen from the words of the prompt. The vocabulary is
 * small and documented (docs/preview-engine.md); a prompt naming none gets a seeded colour grade.
 */
export const editStyles = ['black-and-white', 'sketch', 'vintage', 'clay', 'neon', 'cartoon', 'negative', 'blur'] as const;
export type EditStyle = (typeof editStyles)[number] | 'grade';

/** The words (lower case, English and Chinese) that pick each style. */
const styleWords: Record<(typeof editStyles)[number], readonly string[]> = {
  'black-and-white': ['black-and-white', 'black and white', 'black & white', 'monochrome', 'grayscale', 'greyscale', 'b&w', '黑白'],
  sketch: ['sketch', 'pencil', 'line art', 'drawing', '素描', '线稿'],
  vintage: ['vintage', 'sepia', 'retro', 'old film', 'old movie', '复古', '怀旧'],
  clay: ['clay', 'claymation', 'plasticine', 'stop motion', 'stop-motion', '粘土', '黏土'],
  neon: ['neon', 'cyberpunk', 'glow', '霓虹', '赛博朋克'],
  cartoon: ['cartoon', 'anime', 'comic', 'cel-shaded', '卡通', '动漫', '漫画'],
  negative: ['negative', 'invert', 'inverted', '负片', '反色'],
  blur: ['blur', 'dreamy', 'soft focus', 'out of focus', '模糊', '梦幻'],
};

/** The style named earliest in the prompt; `grade` when it names none. */
export function styleOfPrompt(prompt: string): EditStyle {
  const text = prompt.toLowerCase();
  let best: { style: EditStyle; at: number } = { style: 'grade', at: Infinity };
  for (const style of editStyles) {
    for (const word of styleWords[style]) {
      const at = text.indexOf(word);
      if (at >= 0 && at < best.at) best = { style, at };
    }
  }
  return best.style;
}

/** The filters of a style, for a yuv420p picture of the output's size. */
export function styleFilters(style: EditStyle, random: SeededRandom): string[] {
  switch (style) {
    case 'black-and-white':
      return [filter('hue', { s: 0 }), filter('eq', { contrast: 1.15 })];
    case 'sketch':
      // Dark lines on paper: the edges, inverted, slightly warm.
      return [
        filter('format', { pix_fmts: 'gray' }),
        filter('edgedetect', { low: 0.08, high: 0.2 }),
        'negate',
        filter('format', { pix_fmts: 'yuv420p' }),
        filter('colorbalance', { rh: 0.05, bh: -0.05 }),
      ];
    case 'vintage':
      return [
        filter('colorchannelmixer', { rr: 0.393, rg: 0.769, rb: 0.189, gr: 0.349, gg: 0.686, gb: 0.168, br: 0.272, bg: 0.534, bb: 0.131 }),
        filter('vignette', { angle: 0.5 }),
      ];
    case 'clay':
      // Soft, saturated, few tones: a blur, then each channel quantised to 6 levels.
      return [
        filter('boxblur', { luma_radius: 3, luma_power: 1 }),
        filter('eq', { saturation: 1.6 }),
        filter('lutrgb', { r: quantise(6), g: quantise(6), b: quantise(6) }),
        filter('format', { pix_fmts: 'yuv420p' }),
      ];
    case 'neon':
      return [
        filter('edgedetect', { mode: 'colormix', high: 0.1 }),
        filter('eq', { saturation: 2.5, brightness: 0.05, contrast: 1.4 }),
        filter('hue', { h: decimal(random.between(-180, 180)) }),
      ];
    case 'cartoon':
      return [
        filter('lutrgb', { r: quantise(4), g: quantise(4), b: quantise(4) }),
        filter('format', { pix_fmts: 'yuv420p' }),
        filter('eq', { saturation: 1.4 }),
      ];
    case 'negative':
      return ['negate'];
    case 'blur':
      return [filter('boxblur', { luma_radius: 12, luma_power: 2 })];
    case 'grade':
      return [filter('hue', { h: decimal(random.between(-40, 40)), s: decimal(random.between(0.8, 1.3)) })];
  }
}

/** A lut expression that rounds a 0…255 channel to `levels` evenly spaced values. */
function quantise(levels: number): string {
  const step = decimal(255 / (levels - 1));
  return `round(val/${step})*${step}`;
}
