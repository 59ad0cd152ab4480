import { decimal, filter, type FilterGraph } from './filter-graph.js';
import type { RenderPlan, Voice } from './render-plan.js';
import { seededRandom } from './seeded-random.js';

/** Every soundtrack leaves the graph in the one format the AAC encoder is given. */
const sampleRate = 48_000;
const audioFormat = filter('aformat', { sample_fmts: 'fltp', sample_rates: sampleRate, channel_layouts: 'stereo' });

/**
 * The soundtrack of a preview: adds its inputs and chains to `graph` and returns the label of a
 * stereo stream exactly `plan.durationSeconds` long, or undefined when the output has no audio.
 */
export function soundtrackStream(graph: FilterGraph, plan: RenderPlan): string | undefined {
  const { soundtrack } = plan;
  if (!soundtrack) return undefined;
  switch (soundtrack.kind) {
    case 'file':
      return fileSoundtrack(graph, plan, soundtrack.path);
    case 'generated':
      return generatedSoundtrack(graph, plan);
    case 'voices':
      return voicesSoundtrack(graph, plan, soundtrack.voices);
    case 'silence':
      return graph.chain(
        [],
        [filter('anullsrc', { r: sampleRate, cl: 'stereo' }), filter('atrim', { duration: decimal(plan.durationSeconds) }), audioFormat],
      );
  }
}

/**
 * r2v character voices: each from its start for at most its length, silence elsewhere, mixed.
 * `amix` divides by its input count, so `volume` puts each voice back at its own level.
 */
function voicesSoundtrack(graph: FilterGraph, plan: RenderPlan, voices: Voice[]): string {
  const duration = decimal(plan.durationSeconds);
  const tracks = voices.map((voice) => {
    const input = graph.input(voice.path);
    const delayMs = Math.round(voice.startSeconds * 1000);
    return graph.chain(
      [`${input}:a`],
      [
        filter('asetpts', { expr: 'PTS-STARTPTS' }),
        audioFormat,
        filter('atrim', { duration: decimal(voice.seconds) }),
        // `delays` per channel: ffmpeg 4.1's adelay has no `all` option.
        ...(delayMs > 0 ? [filter('adelay', { delays: `${delayMs}|${delayMs}` })] : []),
        'apad',
        filter('atrim', { duration }),
      ],
    );
  });
  if (tracks.length === 1) return tracks[0];
  return graph.chain(tracks, [
    filter('amix', { inputs: tracks.length, duration: 'first' }),
    filter('volume', { volume: tracks.length }),
    audioFormat,
  ]);
}

/** A file's audio from its start: cut at the end of the video, or followed by silence when shorter. */
function fileSoundtrack(graph: FilterGraph, plan: RenderPlan, path: string): string {
  const input = graph.input(path);
  return graph.chain(
    [`${input}:a`],
    [
      filter('asetpts', { expr: 'PTS-STARTPTS' }),
      audioFormat,
      'apad',
      filter('atrim', { duration: decimal(plan.durationSeconds) }),
    ],
  );
}

/** Chords of the seed: a root note and one of a few triads, pulsing, over quiet noise. */
const rootNotesHz = [110, 123.47, 130.81, 146.83, 164.81, 174.61, 196];
const triads = [
  [1, 5 / 4, 3 / 2],
  [1, 6 / 5, 3 / 2],
  [1, 4 / 3, 5 / 3],
  [1, 3 / 2, 2],
];
const fadeSeconds = 0.5;

/**
 * Tremolo rates (Hz) that divide the sample rate into a whole number of samples, each exact in
 * binary and in 4 decimals. Up to 4.2, ffmpeg's `tremolo` allocates a table of
 * floor(sample_rate / f) samples but fills and reads it up to the next whole sample: with any
 * other rate it writes one sample past the end of the table and corrupts the heap (the npm
 * package's 4.1 aborts on about half of all seeds; fixed in later versions). A whole period has
 * no such last sample, so the same graph is safe, and sounds alike, on every build.
 */
const tremoloHz = [0.3125, 0.375, 0.5, 0.625, 0.75, 0.9375, 1, 1.25, 1.5];

/**
 * Built from `sine` and `anoisesrc` sources rather than one `aevalsrc` expression: evaluating an
 * expression per sample costs more than the whole picture at 720P.
 */
function generatedSoundtrack(graph: FilterGraph, plan: RenderPlan): string {
  const random = seededRandom(plan.seed, 'soundtrack');
  const root = random.pick(rootNotesHz);
  const duration = decimal(plan.durationSeconds);
  const tones = random
    .pick(triads)
    .map((ratio) => graph.chain([], [filter('sine', { f: decimal(root * ratio), r: sampleRate, d: duration })]));
  const noise = graph.chain(
    [],
    [filter('anoisesrc', { c: random.pick(['pink', 'brown']), r: sampleRate, a: 0.05, seed: plan.seed, d: duration })],
  );
  const fadeOutStart = Math.max(0, plan.durationSeconds - fadeSeconds);
  return graph.chain(
    [...tones, noise],
    [
      // amix divides every input by their count; `volume` brings the sum back to a normal level.
      filter('amix', { inputs: tones.length + 1, duration: 'first' }),
      filter('volume', { volume: 3 }),
      filter('tremolo', { f: decimal(random.pick(tremoloHz)), d: 0.4 }),
      filter('afade', { t: 'in', d: fadeSeconds }),
      filter('afade', { t: 'out', st: decimal(fadeOutStart), d: fadeSeconds }),
      audioFormat,
    ],
  );
}
