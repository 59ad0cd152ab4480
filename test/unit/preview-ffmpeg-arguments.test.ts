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
  prompt: 'dusk',
  actualPrompt: 'dusk',
  negativePrompt: '',
  picture: { kind: 'procedural' },
  soundtrack: { kind: 'generated' },
  watermark: false,
};
const output = { outputPath: '/work/job/out.mp4', encoder: defaultEncoderSettings, threads: 1 };

function argumentsOf(
  plan: Partial<RenderPlan>,
  options: Partial<typeof output> & { watermarkFontFile?: string } = {},
) {
  return buildFfmpegArguments({ ...basePlan, ...plan }, { ...output, ...options });
}

function optionValue(args: string[], option: string): string | undefined {
  const index = args.indexOf(option);
  return index >= 0 ? args[index + 1] : undefined;
}

/** The input files (not the lavfi graphs) of a command. */
function inputsOf(args: string[]): string[] {
  return args.flatMap((arg, index) => (arg === '-i' && args[index - 1] !== 'lavfi' ? [args[index + 1]] : []));
}

/** Every filter graph of a command: the lavfi inputs' and -filter_complex, joined by `;`. */
function graphText(args: string[]): string {
  const lavfi = args.flatMap((arg, index) => (arg === '-i' && args[index - 1] === 'lavfi' ? [args[index + 1]] : []));
  const complex = optionValue(args, '-filter_complex');
  return [...lavfi, ...(complex ? [complex] : [])].join(';');
}

describe('buildFfmpegArguments', () => {
  test('H.264 yuv420p + AAC in a fast-start MP4, bit-exact, at the output path', () => {
    const args = argumentsOf({});
    assert.equal(args.at(-1), '/work/job/out.mp4');
    assert.equal(optionValue(args, '-c:v'), 'libx264');
    assert.equal(optionValue(args, '-pix_fmt'), 'yuv420p');
    assert.equal(optionValue(args, '-preset'), 'ultrafast');
    assert.equal(optionValue(args.slice(args.indexOf('-c:v')), '-threads'), '4', 'x264 threads');
    assert.equal(optionValue(args, '-c:a'), 'aac');
    assert.equal(optionValue(args, '-movflags'), '+faststart');
    assert.equal(optionValue(args, '-fflags'), '+bitexact');
    assert.equal(optionValue(args, '-flags:v'), '+bitexact');
    assert.equal(optionValue(args, '-flags:a'), '+bitexact');
    assert.equal(optionValue(args, '-r'), '24');
    assert.equal(args.filter((arg) => arg === '-map').length, 2);
    assert.match(graphText(args), /trim=end_frame=48\[/);
  });

  test('the render\'s thread budget sets its filter and decoder threads; x264 keeps its fixed threads', () => {
    const args = argumentsOf({ soundtrack: { kind: 'file', path: '/in/v.wav' } }, { threads: 3 });
    assert.equal(optionValue(args, '-filter_threads'), '3');
    assert.equal(optionValue(args, '-filter_complex_threads'), '3');
    const inputStarts = args.flatMap((arg, index) => (arg === '-i' ? [args.lastIndexOf('-threads', index)] : []));
    assert.equal(inputStarts.length, 2);
    for (const start of inputStarts) assert.equal(args[start + 1], '3', 'each input is decoded with the budget');
    assert.equal(optionValue(args.slice(args.indexOf('-c:v')), '-threads'), '4', 'x264 threads');
  });

  test('a generated picture and soundtrack are lavfi inputs (run in parallel); graphs reading files go to -filter_complex', () => {
    const generated = argumentsOf({});
    assert.equal(generated.filter((arg) => arg === 'lavfi').length, 2);
    assert.equal(generated.includes('-filter_complex'), false);
    assert.deepEqual(
      generated.flatMap((arg, index) => (generated[index - 1] === '-map' ? [arg] : [])),
      ['0:v', '1:a'],
    );
    assert.match(graphText(generated), /trim=end_frame=48\[out0\]/);
    const withFile = argumentsOf({ soundtrack: { kind: 'file', path: '/in/v.wav' } });
    assert.deepEqual(inputsOf(withFile), ['/in/v.wav']);
    assert.match(optionValue(withFile, '-filter_complex')!, /^\[0:a\]asetpts/);
    assert.equal(withFile.filter((arg) => arg === 'lavfi').length, 1, 'the picture is still a lavfi input');
  });

  test('the tremolo rate divides 48 kHz into whole samples for every seed (ffmpeg 4.1 overruns its table otherwise)', () => {
    const rates = new Set<string>();
    for (let seed = 0; seed < 500; seed++) {
      const rate = /tremolo=f=([\d.]+):/.exec(graphText(argumentsOf({ seed })))?.[1];
      assert.ok(rate, `seed ${seed}: no tremolo`);
      assert.ok(Number.isInteger(48_000 / Number(rate)), `seed ${seed}: tremolo at ${rate} Hz`);
      rates.add(rate);
    }
    assert.ok(rates.size >= 6, `the seed still varies the rate: ${[...rates].join(', ')}`);
  });

  test('no soundtrack: no audio stream mapped or encoded', () => {
    const args = argumentsOf({ soundtrack: undefined });
    assert.equal(args.filter((arg) => arg === '-map').length, 1);
    assert.equal(args.includes('-c:a'), false);
    assert.doesNotMatch(graphText(args), /anoisesrc|sine=/);
  });

  test('the same plan gives the same arguments; another seed another picture and soundtrack', () => {
    assert.deepEqual(argumentsOf({}), argumentsOf({}));
    const graph = (seed: number) => graphText(argumentsOf({ seed }));
    const [video7, audio7] = graph(7).split(/;(?=sine)/);
    const [video8, audio8] = graph(8).split(/;(?=sine)/);
    assert.notEqual(video7, video8);
    assert.notEqual(audio7, audio8);
  });

  test('nothing depends on the wall clock or a random source without a seed', () => {
    const graph = graphText(argumentsOf({ watermark: true }));
    assert.doesNotMatch(graph, /random\(|localtime|gmtime/);
    assert.match(graph, /anoisesrc=[^;]*seed=7/);
  });

  test('a continuation reads only the end of its clip, and reverses it to start from the last frame', () => {
    const args = argumentsOf({ picture: { kind: 'zoom', path: '/in/clip.mp4', frame: 'last' } });
    assert.equal(optionValue(args, '-sseof'), '-0.5');
    assert.match(graphText(args), /\[0:v\]reverse,trim=end_frame=1,.*zoompan=/);
    assert.doesNotMatch(argumentsOf({ picture: { kind: 'zoom', path: '/in/a.png', frame: 'first' } }).join(' '), /sseof|reverse/);
  });

  test('footage and its own audio come from one input', () => {
    const args = argumentsOf({
      picture: { kind: 'footage', path: '/in/v.mp4', sourceSeconds: 5, style: 'grade', references: [] },
      soundtrack: { kind: 'file', path: '/in/v.mp4' },
    });
    assert.deepEqual(inputsOf(args), ['/in/v.mp4']);
    const graph = graphText(args);
    assert.match(graph, /\[0:v\]/);
    assert.match(graph, /\[0:a\].*apad,atrim=duration=2\[/);
    assert.doesNotMatch(graph, /tpad/, 'a long enough input is not padded');
  });

  test('footage shorter than the plan holds its last frame', () => {
    const args = argumentsOf({ durationSeconds: 5, frames: 120, picture: { kind: 'footage', path: '/in/v.mp4', sourceSeconds: 3, style: 'grade', references: [] } });
    assert.match(graphText(args), /tpad=stop_mode=clone:stop_duration=2\.0417/);
  });

  test('a reference and a separate audio file are two inputs', () => {
    const args = argumentsOf({
      picture: { kind: 'cast', references: ['/in/a.png'], shots: [{ startFrame: 0, endFrame: 48, show: [0], framing: 'wide' }] },
      soundtrack: { kind: 'file', path: '/in/v.wav' },
    });
    assert.deepEqual(inputsOf(args), ['/in/a.png', '/in/v.wav']);
  });

  test('the watermark is boxes in the bottom-right corner, with letters only when a usable font is given', () => {
    const graphOf = (options: { watermarkFontFile?: string }, watermark = true) =>
      graphText(argumentsOf({ watermark }, options));
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

describe('buildFfmpegArguments: what each parameter adds', () => {
  const graphOf = (plan: Partial<RenderPlan>, options: { watermarkFontFile?: string } = {}) =>
    graphText(argumentsOf(plan, options));

  test('the caption is drawn only with a font, as plain text with no expansion, away from the watermark corner', () => {
    assert.doesNotMatch(graphOf({ caption: 'a fox' }), /drawtext/);
    const graph = graphOf({ caption: 'a fox' }, { watermarkFontFile: '/fonts/Sans.ttf' });
    assert.match(graph, /drawtext=fontfile=\/fonts\/Sans\.ttf:text='a fox':expansion=none:/);
    assert.match(graph, /x=\(w-text_w\)\/2:y=36/);
    assert.doesNotMatch(graphOf({}, { watermarkFontFile: '/fonts/Sans.ttf' }), /drawtext/, 'no caption, no text');
  });

  test('the prompt changes the scene, like the seed', () => {
    assert.notEqual(graphOf({ prompt: 'a fox' }), graphOf({ prompt: 'an owl' }));
  });

  test('first + last frame: the last image fades in on alpha over the zoom into the first, without xfade', () => {
    const args = argumentsOf({ picture: { kind: 'transition', first: '/in/a.png', last: '/in/b.png' } });
    assert.deepEqual(inputsOf(args), ['/in/a.png', '/in/b.png']);
    assert.equal(args.includes('-loop'), false, 'the image is read once: -loop 1 retries an undecodable one for ever');
    const graph = graphText(args);
    assert.match(graph, /\[0:v\]trim=end_frame=1,.*zoompan=/);
    assert.match(graph, /\[1:v\]trim=end_frame=1,loop=loop=47:size=1:start=0,settb=expr=1\/24,setpts=expr=N,.*fade=t=in:s=0:n=47:alpha=1/);
    assert.doesNotMatch(graph, /xfade/);
  });

  test('r2v multi shot: each reference overlaid only during its shot; the scene tinted per shot', () => {
    const graph = graphOf({
      picture: {
        kind: 'cast',
        references: ['/in/a.png', '/in/b.png'],
        shots: [
          { startFrame: 0, endFrame: 24, show: [0], framing: 'wide' },
          { startFrame: 24, endFrame: 48, show: [1], framing: 'close' },
        ],
      },
    });
    assert.match(graph, /overlay=[^;]*enable='between\(n,0,23\)'/);
    assert.match(graph, /overlay=[^;]*enable='between\(n,24,47\)'/);
    assert.equal(graph.match(/hue=h=[^;,]*enable/g)?.length, 2);
  });

  test('r2v single shot: references side by side, always shown', () => {
    const graph = graphOf({
      picture: { kind: 'cast', references: ['/in/a.png', '/in/b.png'], shots: [{ startFrame: 0, endFrame: 48, show: [0, 1], framing: 'wide' }] },
    });
    assert.match(graph, /overlay=x=320-w\/2:/);
    assert.match(graph, /overlay=x=960-w\/2:/);
    assert.doesNotMatch(graph, /enable=/);
  });

  test('voices: each delayed to its start and cut to its length, then mixed; silence is a silent track', () => {
    const graph = graphOf({
      soundtrack: {
        kind: 'voices',
        voices: [
          { path: '/in/a.wav', startSeconds: 0, seconds: 1 },
          { path: '/in/b.wav', startSeconds: 1, seconds: 1 },
        ],
      },
    });
    assert.match(graph, /\[0:a\][^;]*atrim=duration=1,apad,atrim=duration=2\[/);
    assert.match(graph, /\[1:a\][^;]*atrim=duration=1,adelay=delays=1000\|1000,apad,atrim=duration=2\[/);
    assert.match(graph, /amix=inputs=2:duration=first,volume=volume=2/);
    assert.match(graphOf({ soundtrack: { kind: 'silence' } }), /anullsrc=r=48000:cl=stereo,atrim=duration=2/);
  });

  test('videoedit: the style filters follow the fit; reference images are inset top-left', () => {
    const graph = graphOf({
      picture: { kind: 'footage', path: '/in/v.mp4', sourceSeconds: 5, style: 'sketch', references: ['/in/r1.png', '/in/r2.png'] },
    });
    assert.match(graph, /crop=w=1280:h=720,format=pix_fmts=gray,edgedetect/);
    assert.match(graph, /overlay=x=22:y=22\[/);
    assert.match(graph, /overlay=x=22:y=188\[/);
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
