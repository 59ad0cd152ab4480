import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { RenderPlan } from './render-plan.js';

/**
 * The `extra` of a finished preview render: what was rendered and from what, so a client can see
 * how each parameter was honoured. Field names are documented in docs/preview-engine.md.
 */
export function resultExtra(plan: RenderPlan, toolchain: FfmpegToolchain, renderSeconds: number): Record<string, unknown> {
  const { picture, soundtrack } = plan;
  return {
    engine: 'preview',
    engine_note: 'procedural preview rendered with ffmpeg; not the Wan model',
    width: plan.width,
    height: plan.height,
    frame_rate: plan.frameRate,
    frames: plan.frames,
    duration_seconds: plan.durationSeconds,
    has_audio: soundtrack !== undefined,
    audio_source: soundtrack?.kind ?? 'none',
    watermark: plan.watermark,
    orig_prompt: plan.prompt,
    actual_prompt: plan.actualPrompt,
    negative_prompt: plan.negativePrompt,
    picture: picture.kind,
    ...(picture.kind === 'footage' ? { style: picture.style, reference_images: picture.references.length } : {}),
    ...(picture.kind === 'cast'
      ? {
          shots: picture.shots.map((shot) => ({
            start_seconds: Number((shot.startFrame / plan.frameRate).toFixed(3)),
            end_seconds: Number((shot.endFrame / plan.frameRate).toFixed(3)),
            characters: shot.show.map((index) => `character${index + 1}`),
            framing: shot.framing,
          })),
        }
      : {}),
    render_seconds: Number(renderSeconds.toFixed(3)),
    ffmpeg_version: toolchain.version,
  };
}
