import type { ModelId } from '../models/model.js';

/** What a finished task bills, recorded on it when it ends. */
export interface TaskUsage {
  model: ModelId;
  engine: string;
  /** Seconds billed by the pricing rule: output seconds, plus input seconds where the engine bills those. */
  billedSeconds: number;
  outputSeconds: number;
  inputSeconds: number;
  resolution: '720P' | '1080P';
  audio: boolean;
  /** What the seconds cost by the price table, in `currency`. */
  listPrice: number;
  /** What is billed: the list price, or 0 for an engine that costs nothing (the preview renderer). */
  cost: number;
  currency: string;
}

export interface UsageQuery {
  from: number;
  to: number;
  groupBy: 'model' | 'day';
}

export interface UsageRow {
  /** The model id, or the UTC day (`2026-11-25`). */
  group: string;
  tasks: number;
  billedSeconds: number;
  cost: number;
  listPrice: number;
}

export interface UsageStore {
  /** Usage of one key's tasks that ended in [from, to), summed per group. */
  usage(keyId: string, query: UsageQuery): Promise<UsageRow[]>;
}
