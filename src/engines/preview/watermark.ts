import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { evenPixels, filter } from './filter-graph.js';

/**
 * The "AI generated" mark the pages put in the bottom-right corner: a translucent badge drawn with
 * boxes, so that it needs no font; the letters "AI" are added in it when a font file is known.
 */
export function watermarkFilters(width: number, height: number, fontFile?: string): string[] {
  const unit = Math.min(width, height);
  const badgeWidth = evenPixels(unit * 0.16);
  const badgeHeight = evenPixels(unit * 0.07);
  const margin = evenPixels(unit * 0.03);
  const x = width - badgeWidth - margin;
  const y = height - badgeHeight - margin;
  const border = Math.max(2, evenPixels(unit / 240));
  const logoSide = badgeHeight - 4 * border;
  const box = (left: number, top: number, w: number, h: number, color: string, thickness: number | 'fill') =>
    filter('drawbox', { x: left, y: top, w, h, color, t: thickness });
  return [
    box(x, y, badgeWidth, badgeHeight, 'black@0.45', 'fill'),
    box(x, y, badgeWidth, badgeHeight, 'white@0.85', border),
    box(x + 2 * border, y + 2 * border, logoSide, logoSide, 'white@0.85', 'fill'),
    ...(fontFile && usableInFilter(fontFile)
      ? [
          filter('drawtext', {
            fontfile: fontFile,
            text: 'AI',
            fontcolor: 'white@0.9',
            fontsize: Math.round(badgeHeight * 0.6),
            x: `${x + logoSide + 4 * border}+(${badgeWidth - logoSide - 6 * border}-text_w)/2`,
            y: `${y}+(${badgeHeight}-text_h)/2`,
          }),
        ]
      : []),
  ];
}

/**
 * The t2v caption: `text` (already filtergraph-safe, see `captionText`) centred near the top on a
 * translucent band, away from the watermark's corner. Nothing without a usable font.
 */
export function captionFilters(width: number, height: number, text: string, fontFile: string): string[] {
  if (!usableInFilter(fontFile) || text === '') return [];
  const unit = Math.min(width, height);
  return [
    filter('drawtext', {
      fontfile: fontFile,
      text,
      expansion: 'none',
      fontcolor: 'white',
      fontsize: Math.round(unit * 0.045),
      box: 1,
      boxcolor: 'black@0.45',
      boxborderw: evenPixels(unit * 0.012),
      x: '(w-text_w)/2',
      y: evenPixels(unit * 0.05),
    }),
  ];
}

/** Font paths sit inside a filtergraph; only plain ones are accepted, so none needs escaping. */
function usableInFilter(fontFile: string): boolean {
  return /^[\w./-]+$/.test(fontFile);
}

const commonFontFiles = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
];

/** A bold sans font of the usual Linux packages, if one is installed. */
export async function findWatermarkFont(): Promise<string | undefined> {
  for (const file of commonFontFiles) {
    try {
      await access(file, constants.R_OK);
      return file;
    } catch {
      // not installed here
    }
  }
  return undefined;
}
