import { stat } from 'node:fs/promises';
import { Option } from 'commander';
import type { ModelDefinition } from '../models/model.js';

/**
 * The flags of `wan t2v|i2v|r2v|videoedit`, derived from each model's TypeBox schema (the one the
 * server validates with), so that a field added to a model is a flag at once:
 * - a string or an enumeration: `--field-name <value>`; an integer: `--field-name <n>`;
 * - a boolean: `--field-name` and `--no-field-name`;
 * - an array of objects (r2v `media`): `--media key=value[,key=value]`, repeated, one per item;
 *   `reference_image=URL` is short for `type=reference_image,url=URL`, and `voice=` for
 *   `reference_voice=` (a key may be the last word of the item field);
 * - an object (`extra`): `--extra <json>`.
 * Values are passed on as typed, and the schema then reports a bad one naming its field.
 */

/** The slice of JSON Schema the model schemas use, as the flags read it. */
export interface FieldSchema {
  type?: string;
  enum?: string[];
  format?: string;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  items?: FieldSchema;
  properties?: Record<string, FieldSchema>;
  required?: string[];
}

export class BadInput extends Error {}

export interface FieldFlag {
  field: string;
  schema: FieldSchema;
  /** The commander attribute the value lands in. */
  attribute: string;
  options: Option[];
}

export function fieldsOf(model: ModelDefinition): [string, FieldSchema][] {
  return Object.entries(model.schema.properties as Record<string, FieldSchema>);
}

export function flagName(field: string): string {
  return `--${field.replaceAll('_', '-')}`;
}

export function modelFlags(model: ModelDefinition): FieldFlag[] {
  const required = new Set((model.schema.required as string[] | undefined) ?? []);
  return fieldsOf(model).map(([field, schema]) => {
    const flag = flagName(field);
    const help = describeField(schema, required.has(field));
    let options: Option[];
    switch (schema.type) {
      case 'boolean':
        options = [
          new Option(flag, `${help}${schema.default === undefined ? '' : ` [default: ${schema.default}]`}`),
          new Option(`--no-${flag.slice(2)}`, `sets ${field} to false`),
        ];
        break;
      case 'array':
        options = [new Option(`${flag} <spec>`, `${help} Repeat for each item: ${itemSpecHelp(schema.items ?? {})}`).argParser(collect)];
        break;
      case 'object':
        options = [new Option(`${flag} <json>`, help)];
        break;
      case 'integer':
      case 'number':
        options = [new Option(`${flag} <n>`, help)];
        break;
      default:
        options = [new Option(`${flag} <${schema.format === 'uri' ? 'url-or-file' : 'value'}>`, help)];
    }
    return { field, schema, attribute: options[0].attributeName(), options };
  });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The first sentence of the schema's description, with the allowed values, range and default. */
function describeField(schema: FieldSchema, required: boolean): string {
  const first = (schema.description ?? '').split(/(?<=\.)\s/)[0];
  const parts = [first];
  if (schema.enum) parts.push(`One of: ${schema.enum.join(', ')}.`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`Range: ${schema.minimum}..${schema.maximum}.`);
  if (schema.format === 'uri') parts.push('A URL, or a local file (uploaded first).');
  if (schema.default !== undefined && schema.type !== 'boolean') parts.push(`[default: ${schema.default}]`);
  if (required) parts.push('(required)');
  return parts.filter(Boolean).join(' ');
}

function itemSpecHelp(item: FieldSchema): string {
  const properties = Object.keys(item.properties ?? {});
  const kinds = Object.values(item.properties ?? {}).find((schema) => schema.enum)?.enum ?? [];
  return `${properties.map((name) => `${name}=…`).join(',')}` + (kinds.length > 0 ? ` (or ${kinds[0]}=URL, …)` : '');
}

/** The request body from the parsed flags: only the fields given, typed as the schema says. */
export function bodyFromFlags(flags: FieldFlag[], options: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const { field, schema, attribute } of flags) {
    const value = options[attribute];
    if (value === undefined) continue;
    switch (schema.type) {
      case 'integer':
      case 'number':
        body[field] = /^-?\d+(\.\d+)?$/.test(String(value)) ? Number(value) : value;
        break;
      case 'object':
        try {
          body[field] = JSON.parse(String(value));
        } catch {
          throw new BadInput(`${flagName(field)}: not valid JSON: ${String(value)}`);
        }
        break;
      case 'array':
        body[field] = (value as string[]).map((spec) => parseItem(field, spec, schema.items ?? {}));
        break;
      default:
        body[field] = value;
    }
  }
  return body;
}

/** `reference_image=URL,voice=URL` or `type=reference_image,url=URL,reference_voice=URL` → an item. */
export function parseItem(field: string, spec: string, item: FieldSchema): Record<string, unknown> {
  const properties = item.properties ?? {};
  const names = Object.keys(properties);
  const enumProperty = names.find((name) => properties[name].enum);
  const urlProperty = names.find((name) => properties[name].format === 'uri' && (item.required ?? []).includes(name));
  const knownKey = (key: string) =>
    names.some((name) => name === key || name.endsWith(`_${key}`)) || (enumProperty !== undefined && properties[enumProperty].enum!.includes(key));
  // A comma starts a new pair only before a known key: a URL may hold `,x=1` in its query.
  const pairs: string[] = [];
  for (const piece of spec.split(/,(?=[A-Za-z_][\w-]*=)/)) {
    const key = piece.slice(0, piece.indexOf('=')).replaceAll('-', '_');
    if (pairs.length > 0 && !knownKey(key)) pairs[pairs.length - 1] += `,${piece}`;
    else pairs.push(piece);
  }
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new BadInput(`${flagName(field)} ${JSON.stringify(spec)}: expected key=value pairs, e.g. ${itemSpecHelp(item)}`);
    const key = pair.slice(0, equals).replaceAll('-', '_');
    const value = pair.slice(equals + 1);
    if (enumProperty && urlProperty && properties[enumProperty].enum!.includes(key)) {
      result[enumProperty] = key;
      result[urlProperty] = value;
      continue;
    }
    const name = names.find((candidate) => candidate === key) ?? names.find((candidate) => candidate.endsWith(`_${key}`));
    if (name === undefined) {
      throw new BadInput(`${flagName(field)} ${JSON.stringify(spec)}: unknown key "${key}"; keys: ${names.join(', ')}`);
    }
    result[name] = value;
  }
  return result;
}

/** One URL field of a body, wherever it sits (`image_url`, `media[1].reference_voice`). */
export interface UrlSlot {
  path: string;
  value: string;
  set(value: string): void;
}

/** Every URL-valued field present in `body`, by the schema. */
export function urlSlots(model: ModelDefinition, body: Record<string, unknown>): UrlSlot[] {
  const slots: UrlSlot[] = [];
  for (const [field, schema] of fieldsOf(model)) {
    const value = body[field];
    if (schema.format === 'uri' && typeof value === 'string') {
      slots.push({ path: field, value, set: (url) => (body[field] = url) });
    }
    if (schema.type === 'array' && Array.isArray(value)) {
      value.forEach((item: Record<string, unknown>, index) => {
        for (const [name, itemSchema] of Object.entries(schema.items?.properties ?? {})) {
          if (itemSchema.format === 'uri' && typeof item?.[name] === 'string') {
            slots.push({ path: `${field}[${index}].${name}`, value: item[name] as string, set: (url) => (item[name] = url) });
          }
        }
      });
    }
  }
  return slots;
}

/** The URL fields holding a local file path; a value that is neither a URL nor a file is bad input. */
export async function localFileSlots(slots: UrlSlot[]): Promise<UrlSlot[]> {
  const local: UrlSlot[] = [];
  for (const slot of slots) {
    if (/^https?:\/\//i.test(slot.value)) continue;
    const info = await stat(slot.value).catch(() => undefined);
    if (!info?.isFile()) throw new BadInput(`${slot.path}: ${JSON.stringify(slot.value)} is neither an http(s) URL nor a file`);
    local.push(slot);
  }
  return local;
}
