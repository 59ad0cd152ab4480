import { styleFilters } from './edit-styles.js';
import { decimal, evenPixels, filter, type FilterGraph } from './filter-graph.js';
import type { RenderPlan, Shot } from './render-plan.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';

/**
 * The picture of a preview: adds its inputs and chains to `graph` and returns the label of a
 * stream of `plan.width` × `plan.height` frames at `plan.frameRate`, at least `plan.frames` long.
 * Colours, motion and zoom come from the seed (and, for generated scenes, the prompt) only.
 */
export function pictureStream(graph: FilterGraph, plan: RenderPlan): string {
  const { picture } = plan;
  switch (picture.kind) {
    case 'procedural':
      return seededScene(graph, plan);
    case 'zoom':
      return zoomIntoFrame(graph, plan, picture.path, picture.frame);
    case 'transition':
      return dissolve(graph, plan, zoomIntoFrame(graph, plan, picture.first, 'first'), picture.last);
    case 'cast':
      return castOverScene(graph, plan, picture.references, picture.shots);
    case 'footage':
      return styledFootage(graph, plan, picture);
  }
}

/**
 * The plasma is computed per pixel (geq), which is slow, so it is drawn on a canvas of about this
 * many pixels and scaled up: the smooth scaling is what makes it look like soft light.
 */
const plasmaCanvasPixels = 36 * 36;

/** Soft colour waves drifting over the frame, with a square moving along a Lissajous path; seed and prompt pick them. */
function seededScene(graph: FilterGraph, plan: RenderPlan): string {
  const random = seededRandom(plan.seed, `scene:${plan.prompt}`);
  const canvasWidth = Math.max(8, Math.round(Math.sqrt((plasmaCanvasPixels * plan.width) / plan.height)));
  const canvasHeight = Math.max(8, Math.round(plasmaCanvasPixels / canvasWidth));
  const channel = () => plasmaExpression(random, canvasWidth, canvasHeight);
  // The waves change at half the frame rate: every other frame repeats, which x264 codes almost for
  // free (it is most of the encoding time otherwise); the square above them moves at the full rate.
  // Two frames of slack so the repeated frames always reach the end; the output is trimmed anyway.
  const backdrop = graph.chain(
    [],
    [
      filter('color', {
        c: 'black',
        s: `${canvasWidth}x${canvasHeight}`,
        r: decimal(plan.frameRate / 2),
        d: decimal(plan.durationSeconds + 2 / plan.frameRate),
      }),
      filter('format', { pix_fmts: 'gbrp' }),
      filter('geq', { r: channel(), g: channel(), b: channel() }),
      filter('scale', { w: plan.width, h: plan.height, flags: 'bicubic' }),
      filter('format', { pix_fmts: 'yuv420p' }),
      filter('fps', { fps: plan.frameRate }),
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
 * (read from its final half second, then reversed so that frame comes first). The first output
 * frame is that frame, unzoomed.
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

/**
 * First + last frame: the last image fades in over the zoom into the first, reaching full
 * opacity on the final frame, so the video starts on the first image and ends on the last.
 * (An alpha fade and `overlay`, not `xfade`: the ffmpeg 4.1 of the npm package has no xfade.)
 * The image is decoded once and repeated by the `loop` filter, at the output's frame rate: with
 * `-loop 1` on the input instead, ffmpeg retries an image it cannot decode for ever.
 */
function dissolve(graph: FilterGraph, plan: RenderPlan, first: string, lastPath: string): string {
  const input = graph.input(lastPath);
  const last = graph.chain(
    [`${input}:v`],
    [
      filter('trim', { end_frame: 1 }),
      filter('loop', { loop: plan.frames - 1, size: 1, start: 0 }),
      filter('settb', { expr: `1/${plan.frameRate}` }),
      filter('setpts', { expr: 'N' }),
      ...cover(plan),
      filter('format', { pix_fmts: 'yuva420p' }),
      filter('fade', { t: 'in', s: 0, n: Math.max(1, plan.frames - 1), alpha: 1 }),
    ],
  );
  return graph.chain([first, last], [filter('overlay', { x: 0, y: 0, format: 'yuv420' })]);
}

/**
 * r2v: the references' first frames over the seeded scene, shot by shot. A wide shot places the
 * shown references side by side, left to right in `media` order; a close-up fills most of the
 * frame with one. Each shot of a multi-shot render tints the scene differently, so cuts show.
 */
function castOverScene(graph: FilterGraph, plan: RenderPlan, references: string[], shots: Shot[]): string {
  const random = seededRandom(plan.seed, 'cast');
  let scene = seededScene(graph, plan);
  if (shots.length > 1) {
    scene = graph.chain(
      [scene],
      shots.map((shot) =>
        filter('hue', { h: decimal(random.between(-150, 150)), enable: `between(n,${shot.startFrame},${shot.endFrame - 1})` }),
      ),
    );
  }
  const uses = references.map((_, reference) =>
    shots.flatMap((shot) => (shot.show.includes(reference) ? [{ shot, slot: shot.show.indexOf(reference) }] : [])),
  );
  references.forEach((path, reference) => {
    if (uses[reference].length === 0) return;
    const input = graph.input(path);
    const still = graph.chain([`${input}:v`], [filter('trim', { end_frame: 1 })]);
    const copies = uses[reference].length > 1 ? graph.split(still, uses[reference].length) : [still];
    uses[reference].forEach(({ shot, slot }, use) => {
      const slots = shot.show.length;
      const boxWidth = shot.framing === 'close' ? plan.width * 0.9 : (plan.width / slots) * 0.85;
      const boxHeight = plan.height * (shot.framing === 'close' ? 0.85 : 0.6);
      const fit = `min(${decimal(boxWidth)}/iw,${decimal(boxHeight)}/ih)`;
      const figure = graph.chain(
        [copies[use]],
        [filter('scale', { w: `2*trunc(${fit}*iw/2)`, h: `2*trunc(${fit}*ih/2)` })],
      );
      const centreX = decimal((plan.width * (slot + 0.5)) / slots);
      const bob = `${decimal(plan.height * 0.02)}*sin(t*${decimal(random.between(1, 2.5))}+${decimal(random.between(0, 6.28))})`;
      // A single-frame overlay input is repeated to the end (overlay's eof_action=repeat).
      scene = graph.chain(
        [scene, figure],
        [
          filter('overlay', {
            x: `${centreX}-w/2`,
            y: `(H-h)/2+${bob}`,
            ...(shots.length > 1 ? { enable: `between(n,${shot.startFrame},${shot.endFrame - 1})` } : {}),
          }),
        ],
      );
    });
  });
  return scene;
}

/**
 * videoedit: the input video fitted to the output in the prompt's style, with the reference
 * images inset down the left edge. When the requested length exceeds the input, its last frame
 * is held.
 */
function styledFootage(
  graph: FilterGraph,
  plan: RenderPlan,
  picture: Extract<RenderPlan['picture'], { kind: 'footage' }>,
): string {
  const random = seededRandom(plan.seed, 'grade');
  const input = graph.input(picture.path);
  const missingSeconds = plan.durationSeconds - picture.sourceSeconds;
  let footage = graph.chain(
    [`${input}:v`],
    [
      filter('setpts', { expr: 'PTS-STARTPTS' }),
      filter('fps', { fps: plan.frameRate }),
      ...cover(plan),
      ...styleFilters(picture.style, random),
      // One frame more than missing, so that rounding never leaves the picture a frame short.
      ...(missingSeconds > 0
        ? [filter('tpad', { stop_mode: 'clone', stop_duration: decimal(missingSeconds + 1 / plan.frameRate) })]
        : []),
    ],
  );
  const margin = evenPixels(Math.min(plan.width, plan.height) * 0.03);
  const insetHeight = evenPixels(plan.height * 0.2);
  const fit = `min(${evenPixels(plan.width * 0.25)}/iw,${insetHeight}/ih)`;
  picture.references.forEach((path, index) => {
    const reference = graph.input(path);
    const inset = graph.chain(
      [`${reference}:v`],
      [filter('trim', { end_frame: 1 }), filter('scale', { w: `2*trunc(${fit}*iw/2)`, h: `2*trunc(${fit}*ih/2)` })],
    );
    footage = graph.chain([footage, inset], [filter('overlay', { x: margin, y: margin + index * (insetHeight + margin) })]);
  });
  return footage;
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
