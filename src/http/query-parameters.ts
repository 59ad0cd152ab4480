import { invalidRequest } from '../spec/api-error.js';

/** A query parameter given once, as text, mapped to the query's field; absent, nothing. */
export function optional<T>(name: string, value: unknown, map: (value: string) => T): T | Record<string, never> {
  if (value === undefined) return {};
  if (typeof value !== 'string' || value === '') throw invalidRequest(name, `${name} must be given once, as text, got ${JSON.stringify(value)}`, { value });
  return map(value);
}

export function oneOf(name: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) {
    throw invalidRequest(name, `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, { value, allowed });
  }
  return value;
}
