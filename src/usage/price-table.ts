import { ConfigError, type JsonObject } from '../config.js';
import type { ModelId } from '../models/model.js';
import type { Tier } from '../models/output-size.js';
import { modelIds } from '../models/registry.js';

const tiers: readonly Tier[] = ['720P', '1080P'];

/** The seed provider's published prices per second, the same for all four models (docs/limits-and-usage.md). */
export const defaultPrices: Readonly<Record<Tier, number>> = { '720P': 0.1, '1080P': 0.15 };

/**
 * Price of one billed second by model and resolution tier, from the `prices` config key:
 * tiers at the top level price every model, a model's own object overrides them for it.
 */
export class PriceTable {
  private constructor(
    private readonly perModel: ReadonlyMap<ModelId, Readonly<Record<Tier, number>>>,
    readonly currency: string,
  ) {}

  /** Reads and checks the `prices` setting; an unknown key or a bad price names itself. */
  static fromConfig(prices: JsonObject | undefined, currency: string): PriceTable {
    const setting = prices ?? {};
    const everyModel = { ...defaultPrices };
    const overrides = new Map<ModelId, Partial<Record<Tier, number>>>();
    for (const [name, value] of Object.entries(setting)) {
      if ((tiers as readonly string[]).includes(name)) everyModel[name as Tier] = priceOf(`prices.${name}`, value);
      else if ((modelIds as readonly string[]).includes(name)) overrides.set(name as ModelId, modelPrices(name, value));
      else throw new ConfigError(`prices: unknown key ${JSON.stringify(name)}; use a tier (${tiers.join(', ')}) or a model (${modelIds.join(', ')})`);
    }
    const perModel = new Map(modelIds.map((model) => [model, { ...everyModel, ...overrides.get(model) }]));
    return new PriceTable(perModel, currency);
  }

  /** What one second costs. */
  perSecond(model: ModelId, tier: Tier): number {
    return this.perModel.get(model)![tier];
  }
}

function modelPrices(model: string, value: unknown): Partial<Record<Tier, number>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`prices.${model} is ${JSON.stringify(value)}: use an object of prices per tier such as {"720P": 0.1, "1080P": 0.15}`);
  }
  return Object.fromEntries(
    Object.entries(value).map(([tier, price]) => {
      if (!(tiers as readonly string[]).includes(tier)) {
        throw new ConfigError(`prices.${model}: unknown tier ${JSON.stringify(tier)}; the tiers are ${tiers.join(', ')}`);
      }
      return [tier, priceOf(`prices.${model}.${tier}`, price)];
    }),
  );
}

function priceOf(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${field} is ${JSON.stringify(value)}: use a price per second of 0 or more, such as 0.1`);
  }
  return value;
}

/** Amounts are kept to a hundredth of a cent: sums of many tasks stay free of float noise. */
export function roundPrice(amount: number): number {
  return Math.round(amount * 10_000) / 10_000;
}
