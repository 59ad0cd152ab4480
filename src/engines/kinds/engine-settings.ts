import { ConfigError } from '../../config.js';
import type { ModelId } from '../../models/model.js';
import { isModelId, modelIds } from '../../models/registry.js';

/**
 * One engine's entry of the `engines` setting, read field by field. Every refusal is a
 * ConfigError that names the engine and the field (`engines.gpu-t2v.capacity: …`), so a bad
 * set-up stops the server at start with a message that says where to look.
 */
export class EngineSettings {
  constructor(
    /** The instance's name, the key of its entry. */
    readonly engine: string,
    private readonly values: Readonly<Record<string, unknown>>,
  ) {}

  /** Refuses fields the kind does not know (a typo would otherwise be ignored silently). */
  onlyFields(kind: string, known: readonly string[]): void {
    for (const field of Object.keys(this.values)) {
      if (field !== 'kind' && !known.includes(field)) {
        this.fail(field, `unknown field for an engine of kind ${kind}; its fields are ${['kind', ...known].join(', ')}`);
      }
    }
  }

  has(field: string): boolean {
    return this.values[field] !== undefined;
  }

  string(field: string): string | undefined {
    const value = this.values[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, `use a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  }

  requiredString(field: string, what: string): string {
    return this.string(field) ?? this.fail(field, `missing: ${what}`);
  }

  /** An http(s) URL without credentials, query or fragment; trailing slashes dropped. */
  url(field: string, fallback?: string): string {
    const text = this.string(field) ?? fallback ?? this.fail(field, 'missing: the http(s) URL of the engine');
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return this.fail(field, `"${text}" is not a URL; use one such as http://gpu1:8091/v1`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') this.fail(field, `"${text}" is not an http(s) URL`);
    if (url.username !== '' || url.password !== '') this.fail(field, 'must not carry a user name or password; give api_key instead');
    if (url.search !== '' || url.hash !== '') this.fail(field, `"${text}" must not have a query or fragment`);
    return text.replace(/\/+$/, '');
  }

  integer(field: string, range: { minimum: number; maximum: number }, fallback: number): number;
  integer(field: string, range: { minimum: number; maximum: number }): number | undefined;
  integer(field: string, { minimum, maximum }: { minimum: number; maximum: number }, fallback?: number): number | undefined {
    const value = this.values[field];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
      this.fail(field, `use a whole number from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  number(field: string, { minimum, maximum }: { minimum: number; maximum: number }): number | undefined {
    const value = this.values[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum || value > maximum) {
      this.fail(field, `use a number from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  stringList(field: string): string[] | undefined {
    const value = this.values[field];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length === 0 || value.some((item) => typeof item !== 'string' || item.trim() === '')) {
      this.fail(field, `use a non-empty list of strings, got ${JSON.stringify(value)}`);
    }
    return value as string[];
  }

  /** An object whose values are strings (e.g. workflow file per name). */
  stringMap(field: string): Record<string, string> | undefined {
    const value = this.values[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, `use an object such as {"name": "value"}, got ${JSON.stringify(value)}`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string' || item.trim() === '') this.fail(`${field}.${key}`, `use a non-empty string, got ${JSON.stringify(item)}`);
    }
    return value as Record<string, string>;
  }

  /**
   * The models the instance carries out: `models` when set (a subset of what the kind can do),
   * else `fallback`.
   */
  models(canServe: readonly ModelId[], fallback: readonly ModelId[] = canServe): readonly ModelId[] {
    const listed = this.stringList('models');
    if (listed === undefined) return fallback;
    for (const id of listed) {
      if (!isModelId(id)) this.fail('models', `"${id}" is not a model; the models are ${modelIds.join(', ')}`);
      if (!canServe.includes(id)) this.fail('models', `${id} cannot be carried out here; this engine can do ${canServe.join(', ')}`);
    }
    return [...new Set(listed)] as ModelId[];
  }

  fail(field: string, message: string): never {
    throw new ConfigError(`engines.${this.engine}.${field}: ${message}`);
  }
}
