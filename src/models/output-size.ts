/**
 * Output dimensions, per the size tables of the model pages.
 *
 * t2v and r2v name an exact `size`; i2v asks for a tier and follows the input's aspect ratio;
 * videoedit follows the input's aspect ratio unless `ratio` picks one of its table's sizes.
 */
export type Tier = '720P' | '1080P';

export interface Dimensions {
  width: number;
  height: number;
}

/** The sizes of the t2v and r2v pages ("width*height"). */
export const sizeOptions = [
  '1280*720', '720*1280', '960*960', '1088*832', '832*1088',
  '1920*1080', '1080*1920', '1440*1440', '1632*1248', '1248*1632',
] as const;

export const ratioOptions = ['16:9', '9:16', '1:1', '4:3', '3:4'] as const;
export type Ratio = (typeof ratioOptions)[number];

/** videoedit's table: note 4:3 is 1104*832 / 1648*1248 there, unlike t2v's 1088*832. */
const videoeditRatioSizes: Record<Tier, Record<Ratio, Dimensions>> = {
  '720P': {
    '16:9': { width: 1280, height: 720 },
    '9:16': { width: 720, height: 1280 },
    '1:1': { width: 960, height: 960 },
    '4:3': { width: 1104, height: 832 },
    '3:4': { width: 832, height: 1104 },
  },
  '1080P': {
    '16:9': { width: 1920, height: 1080 },
    '9:16': { width: 1080, height: 1920 },
    '1:1': { width: 1440, height: 1440 },
    '4:3': { width: 1648, height: 1248 },
    '3:4': { width: 1248, height: 1648 },
  },
};

/** Pixel budget of a tier: its 16:9 frame. */
const tierPixels: Record<Tier, number> = { '720P': 1280 * 720, '1080P': 1920 * 1080 };

export function parseSize(size: string): Dimensions {
  const [width, height] = size.split('*').map(Number);
  return { width, height };
}

export function tierOfSize(size: string): Tier {
  const { width, height } = parseSize(size);
  return width * height > tierPixels['720P'] * 1.2 ? '1080P' : '720P';
}

function even(value: number): number {
  return Math.max(2, Math.round(value / 2) * 2);
}

/** The tier's pixel budget at the aspect ratio of an input of `input` dimensions, even sides. */
export function tierAtAspect(tier: Tier, input: Dimensions): Dimensions {
  const aspect = input.width / input.height;
  const pixels = tierPixels[tier];
  return { width: even(Math.sqrt(pixels * aspect)), height: even(Math.sqrt(pixels / aspect)) };
}

export function videoeditRatioSize(tier: Tier, ratio: Ratio): Dimensions {
  return videoeditRatioSizes[tier][ratio];
}

/**
 * The size a request asks for, as the model pages define it: t2v and r2v name it in `size`; i2v
 * takes its tier at the aspect ratio of its first frame (or first clip); videoedit takes `ratio`'s
 * size of its tier, or the tier at the input video's aspect ratio. `inputOf` gives the displayed
 * dimensions of the input media field it is asked for.
 */
export function requestedDimensions(
  model: string,
  request: Record<string, unknown>,
  inputOf: (field: string) => Dimensions,
): Dimensions {
  if (typeof request.size === 'string') return parseSize(request.size);
  const tier = (request.resolution ?? '1080P') as Tier;
  if (model === 'wan2.7-videoedit') {
    return typeof request.ratio === 'string' ? videoeditRatioSize(tier, request.ratio as Ratio) : tierAtAspect(tier, inputOf('video_url'));
  }
  return tierAtAspect(tier, inputOf(typeof request.image_url === 'string' ? 'image_url' : 'first_clip_url'));
}
