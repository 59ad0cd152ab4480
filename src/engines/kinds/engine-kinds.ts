import { cloudKinds } from './cloud-kinds.js';
import type { EngineKind } from './engine-kind.js';
import { comfyUiKind, openAiVideosKind } from './gpu-kinds.js';
import { previewKind } from './preview-kind.js';

/** Every kind of engine the `engines` setting can name. */
export const engineKinds: Readonly<Record<string, EngineKind>> = {
  preview: previewKind,
  ...cloudKinds,
  'openai-videos': openAiVideosKind,
  comfyui: comfyUiKind,
};
