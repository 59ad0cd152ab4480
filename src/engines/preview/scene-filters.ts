import { decimal, evenPixels, filter, type FilterGraph } from './filter-graph.js';
import type { RenderPlan } from './render-plan.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';

/**
 * The picture of a preview: adds its inputs and chains to `graph` and returns the label of a
 * stream of `plan.width` × `plan.height` frames at `plan.frameRate`, at least `plan.frames` long.
 * Colours, motion and zoom come from the seed only.
 */
export function pictureStream(graph: FilterGraph, plan: RenderPlan): string {
  const { picture } = plan;
  switch (picture.kind) {
    case 'procedural':
      return seededScene(graph, plan);
    case 'zoom':
      return zoomIntoFrame(graph, plan, picture.path, picture.frame);
    case 'reference':
      return referenceOverScene(graph, plan, picture.path);
    case 'footage':
      return gradedFootage(graph, plan, picture.path, picture.sourceSeconds);
  }
}

/**
 * The plasma is computed per pixel (geq), which is slow, so it is drawn on a canvas of about this
 * many pixels and scaled up: the smooth scaling is what makes it look like soft light.
 */
const plasmaCanvasPixels = 36 * 36;

/** Soft colour waves drifting over the frame, with a square moving along a Lissajous path. */
function seededScene(graph: FilterGraph, plan: RenderPlan): string {
  const random = seededRandom(plan.seed, 'scene');
  const canvasWidth = Math.max(8, Math.round(Math.sqrt((plasmaCanvasPixels * plan.width) / plan.height)));
  const canvasHeight = Math.max(8, Math.round(plasmaCanvasPixels / canvasWidth));
  const channel = () => plasmaExpression(random, canvasWidth, canvasHeight);
  const backdrop = graph.chain(
    [],
    [
      filter('color', { c: 'black', s: `${canvasWidth}x${canvasHeight}`, r: plan.frameRate, d: plan.durationSeconds }),
      filter('format', { pix_fmts: 'gbrp' }),
      filter('geq', { r: channel(), g: channel(), b: channel() }),
      filter('scale', { w: plan.width, h: plan.height, flags: 'bicubic' }),
      filter('format', { pix_fmts: 'yuv420p' }),
    ],
  );
  const side = evenPixels(Math.min(plan.width, plan.height) * random.between(0.12, 0.2));
  const square = graph.chain(
    [],
    [filter('color', { c: hexColour(random), s: `${side}x${side}`, r: plan.frameRate, d: plan.durationSeconds })],
  );
  const path = (size: string) =>
    `(${size}-${side})*(0.5+0.5*sin(t*${decimal(random.between(0.4, 1.3))}+${decimal(random.between(0, 2 * Math.PI))}))`;
  return graph.chain([backdrop, square], [filter('overlay', { x: path('W'), y: path('H') })]);
}

/**
 * One colour channel of the plasma, 0…255: a mid level plus three waves (two plane waves and a
 * ring around a point) that drift over time. Their amplitudes together never leave the range.
 */
function plasmaExpression(random: SeededRandom, canvasWidth: number, canvasHeight: number): string {
  const middle = random.between(90, 165);
  const room = Math.min(middle, 255 - middle);
  const weights = [random.next() + 0.3, random.next() + 0.3, random.next() + 0.3];
  const total = weights[0] + weights[1] + weights[2];
  const [a, b, c] = weights.map((weight) => decimal((room * weight) / total));
  const spatial = () => decimal((2 * Math.PI * random.between(0.4, 1.4)) / canvasWidth);
  const speed = () => decimal(random.between(0.5, 1.6) * random.pick([-1, 1]));
  const phase = () => decimal(random.between(0, 2 * Math.PI));
  const centreX = decimal(random.between(0, canvasWidth));
  const centreY = decimal(random.between(0, canvasHeight));
  return (
    `${decimal(middle)}` +
    `+${a}*sin(X*${spatial()}+Y*${spatial()}+T*${speed()}+${phase()})` +
    `+${b}*sin(X*${spatial()}-Y*${spatial()}+T*${speed()}+${phase()})` +
    `+${c}*sin(sqrt((X-${centreX})*(X-${centreX})+(Y-${centreY})*(Y-${centreY}))*${spatial()}+T*${speed()})`
  );
}

/**
 * A slow zoom towards a seeded point of one frame: an image's only frame, or a clip's last one
 * (read from its final half second, then reversed so that frame comes first).
 */
function zoomIntoFrame(graph: FilterGraph, plan: RenderPlan, path: string, frame: 'first' | 'last'): string {
  const random = seededRandom(plan.seed, 'zoom');
  const input = graph.input(path, frame === 'last' ? ['-sseof', '-0.5'] : []);
  const zoomGain = decimal(random.between(0.06, 0.16));
  const focus = (axis: string) => `(i${axis}-i${axis}/zoom)*${decimal(random.between(0.25, 0.75))}`;
  return graph.chain(
    [`${input}:v`],
    [
      ...(frame === 'last' ? ['reverse'] : []),
      filter('trim', { end_frame: 1 }),
      ...cover(plan),
      filter('zoompan', {
        z: `1+${zoomGain}*on/${plan.frames}`,
        x: focus('w'),
        y: focus('h'),
        d: plan.frames,
        s: `${plan.width}x${plan.height}`,
        fps: plan.frameRate,
      }),
    ],
  );
}

/** The first frame of a reference (image or video), fitted in the middle of the seeded scene, bobbing gently. */
function referenceOverScene(graph: FilterGraph, plan: RenderPlan, path: string): string {
  const scene = seededScene(graph, plan);
  const random = seededRandom(plan.seed, 'reference');
  const input = graph.input(path);
  const fit = `min(${evenPixels(plan.width * 0.8)}/iw,${evenPixels(plan.height * 0.7)}/ih)`;
  const figure = graph.chain(
    [`${input}:v`],
    [
      filter('trim', { end_frame: 1 }),
      filter('scale', { w: `2*trunc(${fit}*iw/2)`, h: `2*trunc(${fit}*ih/2)` }),
    ],
  );
  const bob = `${decimal(plan.height * 0.02)}*sin(t*${decimal(random.between(1, 2.5))})`;
  // A single-frame overlay input is repeated to the end of the scene (overlay's eof_action=repeat).
  return graph.chain([scene, figure], [filter('overlay', { x: '(W-w)/2', y: `(H-h)/2+${bob}` })]);
}

/**
 * The input video fitted to the output with a seeded colour grade, the visible "edit". When the
 * requested length exceeds the input, its last frame is held.
 */
function gradedFootage(graph: FilterGraph, plan: RenderPlan, path: string, sourceSeconds: number): string {
  const random = seededRandom(plan.seed, 'grade');
  const input = graph.input(path);
  const missingSeconds = plan.durationSeconds - sourceSeconds;
  return graph.chain(
    [`${input}:v`],
    [
      filter('setpts', { expr: 'PTS-STARTPTS' }),
      filter('fps', { fps: plan.frameRate }),
      ...cover(plan),
      filter('hue', { h: decimal(random.between(-40, 40)), s: decimal(random.between(0.8, 1.3)) }),
      // One frame more than missing, so that rounding never leaves the picture a frame short.
      ...(missingSeconds > 0
        ? [filter('tpad', { stop_mode: 'clone', stop_duration: decimal(missingSeconds + 1 / plan.frameRate) })]
        : []),
    ],
  );
}

/** Scales to cover the output and crops the overflow evenly from both sides. */
function cover(plan: RenderPlan): string[] {
  return [
    filter('scale', { w: plan.width, h: plan.height, force_original_aspect_ratio: 'increase' }),
    filter('crop', { w: plan.width, h: plan.height }),
  ];
}

function hexColour(random: SeededRandom): string {
  const channel = () => Math.floor(random.between(40, 256)).toString(16).padStart(2, '0');
  return `0x${channel()}${channel()}${channel()}`;
}
