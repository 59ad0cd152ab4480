import type { Static } from '@sinclair/typebox';
import type { taskUsageSchema } from '../models/usage-schema.js';
import type { TaskUsage } from '../spec/usage.js';

/** A task's usage as the API shows it: snake_case like every field of the contract. */
export function taskUsageView(usage: TaskUsage): Static<typeof taskUsageSchema> {
  return {
    model: usage.model,
    engine: usage.engine,
    billed_seconds: usage.billedSeconds,
    output_seconds: usage.outputSeconds,
    input_seconds: usage.inputSeconds,
    resolution: usage.resolution,
    audio: usage.audio,
    list_price: usage.listPrice,
    cost: usage.cost,
    currency: usage.currency,
  };
}
