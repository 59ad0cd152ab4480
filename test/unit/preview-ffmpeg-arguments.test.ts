import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFfmpegArguments, defaultEncoderSettings } from '../../src/engines/preview/ffmpeg-arguments.js';
import { decimal, filter, FilterGraph } from '../../src/engines/preview/filter-graph.js';
import type { RenderPlan } from '../../src/engines/preview/render-plan.js';

const basePlan: RenderPlan = {
  width: 1280,
  height: 720,
  frameRate: 24,
  frames: 48,
  durationSeconds: 2,
  seed: 7,
  picture: { kind: 'procedural' },
  soundtrack: { kind: 'generated' },
  watermark: false,
};
const output = { outputPath: '/work/job/out.mp4', encoder: defaultEncoderSettings };

function argumentsOf(plan: Partial<RenderPlan>, options: Partial<typeof output> & { watermarkFontFile?: string } = {}) {
  return buildFfmpegArguments({ ...basePlan, ...plan }, { ...output, ...options });
}

function optionValue(args: string[], option: string): string | undefined {
  const index = args.indexOf(option);
  return index >= 0 ? args[index + 1] : undefined;
}

function inputsOf(args: string[]): string[] {
  return args.flatMap((arg, index) => (arg === '-i' ? [args[index + 1]] : []));
}

describe('buildFfmpegArguments', () => {
  test('H.264 yuv420p + AAC in a fast-start MP4, bit-exact, at the output path', () => {
    const args = argumentsOf({});
    assert.equal(args.at(-1), '/work/job/out.mp4');
    assert.equal(optionValue(args, '-c:v'), 'libx264');
    assert.equal(optionValue(args, '-pix_fmt'), 'yuv420p');
    assert.equal(optionValue(args, '-preset'), 'ultrafast');
    assert.equal(optionValue(args, '-threads'), '4');
    assert.equal(optionValue(args, '-c:a'), 'aac');
    assert.equal(optionValue(args, '-movflags'), '+faststart');
    assert.equal(optionValue(args, '-fflags'), '+bitexact');
    assert.equal(optionValue(args, '-flags:v'), '+bitexact');
    assert.equal(optionValue(args, '-flags:a'), '+bitexact');
    assert.equal(optionValue(args, '-r'), '24');
    assert.equal(args.filter((arg) => arg === '-map').length, 2);
    assert.match(optionValue(args, '-filter_complex')!, /trim=end_frame=48\[/);
  });

  test('no soundtrack: no audio stream mapped or encoded', () => {
    const args = argumentsOf({ soundtrack: undefined });
    assert.equal(args.filter((arg) => arg === '-map').length, 1);
    assert.equal(args.includes('-c:a'), false);
    assert.doesNotMatch(optionValue(args, '-filter_complex')!, /anoisesrc|sine=/);
  });

  test('the same plan gives the same arguments; another seed another picture and soundtrack', () => {
    assert.deepEqual(argumentsOf({}), argumentsOf({}));
    const graph = (seed: number) => optionValue(argumentsOf({ seed }), '-filter_complex')!;
    const [video7, audio7] = graph(7).split(/;(?=sine)/);
    const [video8, audio8] = graph(8).split(/;(?=sine)/);
    assert.notEqual(video7, video8);
    assert.notEqual(audio7, audio8);
  });

  test('nothing depends on the wall clock or a random source without a seed', () => {
    const graph = optionValue(argumentsOf({ watermark: true }), '-filter_complex')!;
    assert.doesNotMatch(graph, /random\(|localtime|gmtime/);
    assert.match(graph, /anoisesrc=[^;]*seed=7/);
  });

  test('a continuation reads only the end of its clip, and reverses it to start from the last frame', () => {
    const args = argumentsOf({ picture: { kind: 'zoom', path: '/in/clip.mp4', frame: 'last' } });
    assert.equal(optionValue(args, '-sseof'), '-0.5');
    assert.match(optionValue(args, '-filter_complex')!, /\[0:v\]reverse,trim=end_frame=1,.*zoompan=/);
    assert.doesNotMatch(argumentsOf({ picture: { kind: 'zoom', path: '/in/a.png', frame: 'first' } }).join(' '), /sseof|reverse/);
  });

  test('footage and its own audio come from one input', () => {
    const args = argumentsOf({
      picture: { kind: 'footage', path: '/in/v.mp4', sourceSeconds: 5 },
      soundtrack: { kind: 'file', path: '/in/v.mp4' },
    });
    assert.deepEqual(inputsOf(args), ['/in/v.mp4']);
    const graph = optionValue(args, '-filter_complex')!;
    assert.match(graph, /\[0:v\]/);
    assert.match(graph, /\[0:a\].*apad,atrim=duration=2\[/);
    assert.doesNotMatch(graph, /tpad/, 'a long enough input is not padded');
  });

  test('footage shorter than the plan holds its last frame', () => {
    const args = argumentsOf({ durationSeconds: 5, frames: 120, picture: { kind: 'footage', path: '/in/v.mp4', sourceSeconds: 3 } });
    assert.match(optionValue(args, '-filter_complex')!, /tpad=stop_mode=clone:stop_duration=2\.0417/);
  });

  test('a reference and a separate audio file are two inputs', () => {
    const args = argumentsOf({ picture: { kind: 'reference', path: '/in/a.png' }, soundtrack: { kind: 'file', path: '/in/v.wav' } });
    assert.deepEqual(inputsOf(args), ['/in/a.png', '/in/v.wav']);
  });

  test('the watermark is boxes in the bottom-right corner, with letters only when a usable font is given', () => {
    const graphOf = (options: { watermarkFontFile?: string }, watermark = true) =>
      optionValue(argumentsOf({ watermark }, options), '-filter_complex')!;
    assert.doesNotMatch(graphOf({}, false), /drawbox|drawtext/);
    const boxes = graphOf({});
    assert.match(boxes, /drawbox/);
    assert.doesNotMatch(boxes, /drawtext/);
    for (const match of boxes.matchAll(/drawbox=x=(\d+):y=(\d+):w=(\d+):h=(\d+)/g)) {
      const [x, y, w, h] = match.slice(1).map(Number);
      assert.ok(x > 1280 / 2 && y > 720 / 2, `box at ${x},${y} is not in the bottom-right quarter`);
      assert.ok(x + w <= 1280 && y + h <= 720, 'box inside the frame');
    }
    assert.match(graphOf({ watermarkFontFile: '/fonts/Sans-Bold.ttf' }), /drawtext=fontfile=\/fonts\/Sans-Bold\.ttf:text=AI/);
    assert.doesNotMatch(graphOf({ watermarkFontFile: "/fonts/it's: odd.ttf" }), /drawtext/);
  });
});

describe('filter graph text', () => {
  test('options are joined with colons; values with filtergraph syntax are quoted', () => {
    assert.equal(filter('null'), 'null');
    assert.equal(filter('scale', { w: 1280, h: 'ih*2' }), 'scale=w=1280:h=ih*2');
    assert.equal(filter('scale', { w: 'min(1,2)' }), "scale=w='min(1,2)'");
  });

  test('numbers have at most four decimals and no exponent', () => {
    assert.equal(decimal(1 / 3), '0.3333');
    assert.equal(decimal(1e-9), '0');
    assert.equal(decimal(-1e-9), '0');
    assert.equal(decimal(24), '24');
  });

  test('the same input file is added once; labels follow the chains', () => {
    const graph = new FilterGraph();
    assert.equal(graph.input('/a.mp4'), 0);
    assert.equal(graph.input('/b.wav'), 1);
    assert.equal(graph.input('/a.mp4'), 0);
    assert.equal(graph.input('/a.mp4', ['-sseof', '-1']), 2);
    const source = graph.chain([], ['color']);
    graph.chain(['0:v', source], ['overlay']);
    assert.deepEqual(graph.inputArguments(), ['-i', '/a.mp4', '-i', '/b.wav', '-sseof', '-1', '-i', '/a.mp4']);
    assert.equal(graph.filterComplex(), 'color[s1];[0:v][s1]overlay[s2]');
  });
});
