import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { editStyles } from '../../src/engines/preview/edit-styles.js';
import { PreviewEngine } from '../../src/engines/preview/preview-engine.js';
import { seededRandom, type SeededRandom } from '../../src/engines/preview/seeded-random.js';
import type { FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia } from '../../src/media/probe.js';
import type { ModelId } from '../../src/models/model.js';
import type { EngineJob, EngineOperation } from '../../src/spec/engine.js';
import { ratioOptions, sizeOptions } from '../../src/models/output-size.js';
import { engineJob, waitForEnd } from '../support/engine-conformance.js';
import { decodedHashes, makeAudio, makeImage, makeVideo, testToolchain } from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Random jobs over every model and mode, both tiers, on the ffmpeg under test
 * (`WAN_TEST_FFMPEG_PATH`): each must render a video of the size, length and audio it reports.
 * The cases come from a master seed, printed first; `WAN_PREVIEW_SWEEP_SEED=<master seed>`
 * renders the same cases again, `WAN_PREVIEW_SWEEP_CASES` sets how many (200 by default) and
 * `WAN_PREVIEW_SWEEP_ONLY=<case>` renders that case alone. Every failure names its case, seed and
 * mode with the body that replays it.
 */
const masterSeed = Number(process.env.WAN_PREVIEW_SWEEP_SEED ?? randomInt(2 ** 31));
const caseCount = Number(process.env.WAN_PREVIEW_SWEEP_CASES ?? 200);
const onlyCase = process.env.WAN_PREVIEW_SWEEP_ONLY === undefined ? undefined : Number(process.env.WAN_PREVIEW_SWEEP_ONLY);
/**
 * Renders at once. One render keeps about 1.3 of two cores busy (it waits on process start-up,
 * probing and its own pipeline), so three use them fully.
 */
const concurrency = 3;
/**
 * How long one render may take. Generous: ffmpeg runs at idle priority on its share of the CPUs,
 * so other processes of a busy machine come first; a render that hangs is stopped sooner by the
 * engine (no progress for 60 s).
 */
const renderTimeoutMs = 600_000;
/** Every this many cases, the case is rendered a second time and must give the same frames and samples. */
const determinismEvery = 50;

interface SweepCase {
  index: number;
  seed: number;
  model: ModelId;
  /** The model's mode, for the failure message: `i2v first+last 1080P`, … */
  mode: string;
  body: Record<string, unknown>;
  /** The fixture (by name) downloaded for each media field. */
  files: Record<string, string>;
}

/** The fixtures: small, so that each render costs little more than its output. */
const images = ['wide.png', 'tall.jpg', 'square.webp'];
const videos = ['clip.mp4', 'silent.mov', 'phone.mp4'];
const audios = ['voice.wav', 'song.mp3'];

const prompts = [
  'A paper boat drifting down a rainy street',
  'character1 and character2 dance; music: "la la" [50% off] {x}',
  '一只猫在雨中散步',
];

function tier(random: SeededRandom): '720P' | '1080P' {
  return random.pick(['720P', '1080P'] as const);
}

function common(random: SeededRandom, body: Record<string, unknown>, promptOptional = false): Record<string, unknown> {
  const prompt = promptOptional && random.next() < 0.3 ? undefined : random.pick(prompts);
  return { ...body, ...(prompt ? { prompt } : {}), watermark: random.next() < 0.3 };
}

function t2vCase(random: SeededRandom): Omit<SweepCase, 'index' | 'seed'> {
  const size = random.pick(sizeOptions);
  const audio = random.next() < 0.4 ? random.pick(audios) : undefined;
  return {
    model: 'wan2.7-t2v',
    mode: `t2v ${size}${audio ? ' audio_url' : ''}`,
    body: common(random, { size, duration: 2, prompt_extend: random.next() < 0.5, ...(audio ? { audio_url: 'https://m.test/a' } : {}) }),
    files: audio ? { audio_url: audio } : {},
  };
}

function i2vCase(random: SeededRandom): Omit<SweepCase, 'index' | 'seed'> {
  const resolution = tier(random);
  const start = random.pick(['first frame', 'first+last', 'continuation'] as const);
  const driving = random.next() < 0.3 ? random.pick(audios) : undefined;
  const body: Record<string, unknown> = { resolution, duration: 2 };
  const files: Record<string, string> = {};
  if (start === 'continuation') {
    body.first_clip_url = 'https://m.test/c';
    files.first_clip_url = random.pick(videos);
  } else {
    body.image_url = 'https://m.test/i';
    files.image_url = random.pick(images);
    if (start === 'first+last') {
      body.last_frame_url = 'https://m.test/l';
      files.last_frame_url = random.pick(images);
    }
  }
  if (driving) {
    body.driving_audio_url = 'https://m.test/d';
    files.driving_audio_url = driving;
  }
  return {
    model: 'wan2.7-i2v',
    mode: `i2v ${start} ${resolution}${driving ? ' driving audio' : ''}`,
    body: common(random, body, true),
    files,
  };
}

function r2vCase(random: SeededRandom): Omit<SweepCase, 'index' | 'seed'> {
  const size = random.pick(sizeOptions);
  const shotType = random.pick(['single', 'multi'] as const);
  const count = 1 + Math.floor(random.next() * 3);
  const files: Record<string, string> = {};
  let videoCount = 0;
  const media = Array.from({ length: count }, (_, index) => {
    const isVideo = videoCount < 3 && random.next() < 0.4;
    if (isVideo) videoCount++;
    files[`media[${index}].url`] = isVideo ? random.pick(videos) : random.pick(images);
    const voice = random.next() < 0.3;
    if (voice) files[`media[${index}].reference_voice`] = random.pick(audios);
    return {
      type: isVideo ? 'reference_video' : 'reference_image',
      url: `https://m.test/m${index}`,
      ...(voice ? { reference_voice: `https://m.test/v${index}` } : {}),
    };
  });
  const audio = random.next() < 0.8;
  return {
    model: 'wan2.7-r2v',
    mode: `r2v ${shotType} ${count} media ${size}${audio ? '' : ' no audio'}`,
    body: { ...common(random, { size, duration: 2, shot_type: shotType, media, audio }), prompt: 'character1 waves' },
    files,
  };
}

function videoeditCase(random: SeededRandom): Omit<SweepCase, 'index' | 'seed'> {
  const resolution = tier(random);
  const ratio = random.next() < 0.5 ? random.pick(ratioOptions) : undefined;
  const style = random.pick([...editStyles, 'grade'] as const);
  const withSound = random.next() < 0.3;
  const prompt = `${style === 'grade' ? 'make it better' : `${style} style`}${withSound ? ' with music' : ''}`;
  const references = Math.floor(random.next() * 4);
  const audioSetting = random.pick(['auto', 'origin'] as const);
  const duration = random.pick([0, 2, 3]);
  const body: Record<string, unknown> = {
    video_url: 'https://m.test/v',
    prompt,
    resolution,
    duration,
    audio_setting: audioSetting,
    ...(ratio ? { ratio } : {}),
  };
  const files: Record<string, string> = { video_url: random.pick(videos) };
  const referenceFields = ['reference_image_url', 'reference_image_url_2', 'reference_image_url_3'];
  for (const field of referenceFields.slice(0, references)) {
    body[field] = `https://m.test/${field}`;
    files[field] = random.pick(images);
  }
  return {
    model: 'wan2.7-videoedit',
    mode: `videoedit ${style} ${resolution} ratio ${ratio ?? 'input'} ${references} refs audio ${audioSetting} duration ${duration}`,
    body: { ...body, watermark: random.next() < 0.3 },
    files,
  };
}

/** The cases of a master seed: models in turn, everything else drawn. */
function sweepCases(seed: number, count: number): SweepCase[] {
  const random = seededRandom(seed, 'sweep');
  const makers = [t2vCase, i2vCase, r2vCase, videoeditCase];
  return Array.from({ length: count }, (_, index) => ({
    index,
    seed: Math.floor(random.next() * 2 ** 31),
    ...makers[index % makers.length](random),
  }));
}

describe('preview seed sweep', () => {
  const dir = tempDir('wan-preview-sweep-');
  let toolchain: FfmpegToolchain;
  let engine: PreviewEngine;
  const fixtures: Record<string, string> = {};

  before(async () => {
    toolchain = await testToolchain();
    engine = new PreviewEngine({ toolchain, watermarkFontFile: null });
    const file = (name: string) => path.join(dir, name);
    fixtures['wide.png'] = await makeImage(toolchain, file('wide.png'), { width: 320, height: 180 });
    fixtures['tall.jpg'] = await makeImage(toolchain, file('tall.jpg'), { width: 180, height: 320 });
    fixtures['square.webp'] = await makeImage(toolchain, file('square.webp'), { width: 240, height: 240 });
    fixtures['clip.mp4'] = await makeVideo(toolchain, file('clip.mp4'), { width: 320, height: 240, seconds: 2.5, audio: true });
    fixtures['silent.mov'] = await makeVideo(toolchain, file('silent.mov'), { width: 240, height: 320, seconds: 2, audio: false, frameRate: 25 });
    fixtures['phone.mp4'] = await makeVideo(toolchain, file('phone.mp4'), { width: 320, height: 180, seconds: 2, audio: true, rotate: 90 });
    fixtures['voice.wav'] = await makeAudio(toolchain, file('voice.wav'), { seconds: 3 });
    fixtures['song.mp3'] = await makeAudio(toolchain, file('song.mp3'), { seconds: 1.5, frequency: 523 });
  });

  test(`${caseCount} random jobs over every model and mode render`, async (t) => {
    t.diagnostic(`master seed ${masterSeed}: replay with WAN_PREVIEW_SWEEP_SEED=${masterSeed}; ffmpeg ${toolchain.version} (${toolchain.ffmpegPath})`);
    const cases = sweepCases(masterSeed, Math.max(caseCount, (onlyCase ?? 0) + 1)).filter(
      (sweepCase) => onlyCase === undefined || sweepCase.index === onlyCase,
    );
    const failures: string[] = [];
    let next = 0;
    const renderOne = async (sweepCase: SweepCase): Promise<void> => {
      const workDir = await mkdtemp(path.join(dir, 'job-'));
      const files = Object.fromEntries(Object.entries(sweepCase.files).map(([field, name]) => [field, fixtures[name]]));
      let started: { job: EngineJob; operation: EngineOperation } | undefined;
      try {
        const job = engineJob(sweepCase.model, sweepCase.body, { workDir, files, seed: sweepCase.seed });
        started = { job, operation: await engine.start(job) };
        const status = await waitForEnd(engine, started.operation, job, renderTimeoutMs);
        if (status.state !== 'succeeded') {
          const why = status.state === 'failed' ? `${status.error.message}\n${status.detail ?? ''}` : status.state;
          throw new Error(why);
        }
        const file = status.videos[0].path;
        const { extra } = status;
        const info = await probeMedia(toolchain, file);
        const got = { width: info.video?.width, height: info.video?.height, frames: info.video?.frames, audio: info.audio !== undefined };
        const wanted = { width: extra.width, height: extra.height, frames: extra.frames, audio: extra.has_audio };
        assert.deepEqual(got, wanted, 'the file is what the result reports');
        if (sweepCase.index % determinismEvery === 0) {
          const againDir = await mkdtemp(path.join(dir, 'again-'));
          const again = engineJob(sweepCase.model, sweepCase.body, { workDir: againDir, files, seed: sweepCase.seed });
          const second = await waitForEnd(engine, await engine.start(again), again, renderTimeoutMs);
          assert.equal(second.state, 'succeeded', 'the second render of the same job');
          if (second.state === 'succeeded') {
            assert.deepEqual(await decodedHashes(toolchain, second.videos[0].path), await decodedHashes(toolchain, file), 'the same seed gives the same frames and samples');
          }
          await rm(againDir, { recursive: true, force: true });
        }
      } catch (error) {
        failures.push(
          `case ${sweepCase.index}: seed ${sweepCase.seed}, ${sweepCase.mode}\n` +
            `  body ${JSON.stringify(sweepCase.body)}\n  files ${JSON.stringify(sweepCase.files)}\n` +
            `  ${String(error instanceof Error ? error.message : error).replaceAll('\n', '\n  ')}`,
        );
      } finally {
        if (started) await engine.cancel(started.operation); // a render that timed out must not run on
        await rm(workDir, { recursive: true, force: true });
      }
    };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < cases.length) await renderOne(cases[next++]);
      }),
    );
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${cases.length} cases failed on ffmpeg ${toolchain.version} (replay: WAN_PREVIEW_SWEEP_SEED=${masterSeed}):\n${failures.join('\n')}`,
    );
  });
});
