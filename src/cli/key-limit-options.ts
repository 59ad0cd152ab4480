import { type Command, InvalidArgumentError } from 'commander';
import type { KeyLimits } from '../spec/key-store.js';

/** The per-key limits as `wan keys create|update` takes them, and the names they are shown and refused under. */
const limitOptions: readonly { field: keyof KeyLimits; flag: string; name: string; description: string }[] = [
  { field: 'requestsPerMinute', flag: '--requests-per-minute', name: 'requests_per_minute', description: 'requests per minute' },
  { field: 'maxInFlight', flag: '--in-flight', name: 'in_flight', description: 'tasks queued or running at once' },
  { field: 'maxQueued', flag: '--queued', name: 'queued', description: 'tasks queued at once' },
  { field: 'secondsPerDay', flag: '--seconds-per-day', name: 'seconds_per_day', description: 'billed seconds per UTC day' },
  { field: 'secondsPerMonth', flag: '--seconds-per-month', name: 'seconds_per_month', description: 'billed seconds per UTC month' },
];

/** Adds the limit options; `none` clears a key's own limit, so the server's default holds again. */
export function addLimitOptions(command: Command): Command {
  for (const option of limitOptions) {
    command.option(`${option.flag} <n|none>`, `${option.description} (none: the server's default)`, (value: string) => limitValue(option.flag, value));
  }
  return command;
}

/** The limits given on the command line; absent options are left out. */
export function limitsFromOptions(options: Record<string, unknown>): Partial<KeyLimits> {
  const limits: Partial<KeyLimits> = {};
  for (const { field } of limitOptions) {
    // Commander keys options by the camel case of the flag.
    const value = options[optionKey(field)];
    if (value !== undefined) limits[field] = value === clear ? null : (value as number);
  }
  return limits;
}

/** `requests_per_minute=60 in_flight=5`, or what holds when the key sets none. */
export function describeLimits(limits: Partial<KeyLimits>): string {
  const set = limitOptions.filter(({ field }) => limits[field] !== undefined && limits[field] !== null);
  return set.length === 0 ? 'server defaults' : set.map(({ field, name }) => `${name}=${limits[field]}`).join(' ');
}

function optionKey(field: keyof KeyLimits): string {
  const flag = limitOptions.find((option) => option.field === field)!.flag;
  return flag.slice(2).replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Kept as text until read: Commander turns an option's null value into ''. */
const clear = 'none';

function limitValue(flag: string, value: string): number | typeof clear {
  if (value === clear) return clear;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} takes a whole number of 1 or more, or none; got ${JSON.stringify(value)}`);
  return Number(value);
}
