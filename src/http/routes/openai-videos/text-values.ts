import type { TSchema } from '@sinclair/typebox';

/**
 * Values that arrive as text (the fields of a multipart form, a query string) read as the JSON
 * types their schema declares: `"42"` for an integer is 42, `"true"` for a boolean is true, and
 * an object or array field may be sent as its JSON text. Anything else stays the text it was, so
 * validation refuses it with the usual message naming the field and the value received.
 */
export function typedFromText(value: unknown, schema: TSchema | undefined): unknown {
  const type = schema?.type;
  if (typeof value === 'string') {
    if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
    if ((type === 'object' || type === 'array') && /^\s*[[{]/.test(value)) {
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
    }
    return value;
  }
  if (Array.isArray(value) && type === 'array') return value.map((item) => typedFromText(item, schema?.items));
  if (isPlainObject(value) && type === 'object') {
    const properties = (schema?.properties ?? {}) as Record<string, TSchema>;
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, typedFromText(item, properties[name])]));
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
