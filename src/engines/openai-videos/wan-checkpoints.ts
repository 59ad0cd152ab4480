import type { ModelId } from '../../models/model.js';
import { wan14bProfile, wan1_3bProfile, wan5bProfile, type WanProfile } from '../open-wan/wan-profile.js';

/**
 * What a server of `/v1/videos` can do, read from the checkpoint it serves (`Wan-AI/Wan2.2-T2V-A14B-Diffusers`
 * …): which of our models, at which frame rate and sizes. Undefined for a checkpoint not known
 * here; the engine's configuration must then say `models`.
 */
export interface Checkpoint {
  models: readonly ModelId[];
  profile: WanProfile;
}

export function checkpointOf(model: string): Checkpoint | undefined {
  const name = model.toUpperCase();
  if (!name.includes('WAN')) return undefined;
  // Order matters: TI2V contains I2V and T2V, I2V contains no T2V.
  if (name.includes('TI2V')) return { models: ['wan2.7-t2v', 'wan2.7-i2v'], profile: wan5bProfile };
  if (name.includes('I2V')) return { models: ['wan2.7-i2v'], profile: wan14bProfile };
  if (name.includes('T2V')) return { models: ['wan2.7-t2v'], profile: name.includes('1.3B') ? wan1_3bProfile : wan14bProfile };
  return undefined;
}
