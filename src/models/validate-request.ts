import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import { type ApiError, invalidRequest, type ErrorMetadata } from '../spec/api-error.js';
import type { ModelDefinition, ModelRequest } from './model.js';

/**
 * Turns a create-task body into the request a task stores: the model's schema (types, limits,
 * defaults), then the model's own cross-field rules. Every refusal is one INVALID_REQUEST_BODY
 * error that names the field, the value received and the rule, so that a client can fix its
 * request without reading the docs.
 */

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  // "5" for an integer or true for a string is a client bug to report, not to guess around.
  coerceTypes: false,
  strict: true,
  // Errors then carry the refused value and the schema that refused it, which the messages quote.
  verbose: true,
});

// Every `format: "uri"` of the model schemas is a media URL that the server will download.
ajv.addFormat('uri', isHttpUrl);

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Deepest nesting of objects and arrays a request may have. The deepest documented request needs
 * 3 levels (r2v's `media[].url`), and `extra` leaves room for a client's own options; but
 * validating, copying and quoting a value all recurse, and a body of a few kilobytes nested
 * thousands deep would overflow the stack in one of them.
 */
export const maxNestingDepth = 32;

export function nestedTooDeep(): ApiError {
  return invalidRequest('body', `the request body nests objects and arrays deeper than the limit of ${maxNestingDepth} levels`, {
    limit: maxNestingDepth,
  });
}

/**
 * A copy of a body of JSON values, refused once objects and arrays nest deeper than the limit:
 * the check comes before any deeper recursion, so the copy's own depth is bounded too. One walk
 * where a depth check and structuredClone (a serialisation and a parse) took two.
 */
function copyWithinDepth(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > maxNestingDepth) throw nestedTooDeep();
  if (Array.isArray(value)) return value.map((item) => copyWithinDepth(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[name];
    // A "__proto__" key is data here (JSON.parse made it an own property), never the prototype.
    if (name === '__proto__') Object.defineProperty(copy, name, { value: copyWithinDepth(item, depth + 1), enumerable: true, writable: true, configurable: true });
    else copy[name] = copyWithinDepth(item, depth + 1);
  }
  return copy;
}

const validators = new WeakMap<TSchema, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let validate = validators.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

export function validateRequest<Request extends object = ModelRequest>(
  model: ModelDefinition<Request>,
  body: unknown,
): Request {
  return model.normalize(validateAgainst(model.schema, body) as Request);
}

/**
 * The schema part of validateRequest on its own, for bodies that are not a model's request (the
 * fields of the OpenAI-compatible API), so that their refusals read the same.
 */
export function validateAgainst(schema: TSchema, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('body', `the request body must be a JSON object, got ${shown(body)}`, {
      value: preview(body),
    });
  }
  // Defaults are written into the validated copy; the caller's body stays as it was sent. The
  // HTTP layer checks the nesting on the text already; bodies from elsewhere are checked here.
  const request = copyWithinDepth(body, 1) as Record<string, unknown>;
  const validate = validatorFor(schema);
  if (!validate(request)) throw problemsError(validate.errors ?? []);
  return request as Record<string, unknown>;
}

interface Problem {
  field: string;
  message: string;
  metadata: ErrorMetadata;
}

/**
 * Order in which problems are reported: a misspelt field explains the errors that follow it
 * (a missing required field, say), and a value of the wrong type makes its range meaningless.
 */
const Rank = { UnknownField: 0, Missing: 1, WrongType: 2, NotAllowed: 3, OutOfRange: 4, Other: 5 } as const;

interface RankedProblem extends Problem {
  rank: (typeof Rank)[keyof typeof Rank];
}

/** The first problem is the message; `metadata.errors` lists all when there are several. */
function problemsError(errors: readonly ErrorObject[]) {
  const ranked = errors.map(describe).sort((a, b) => a.rank - b.rank);
  // One problem per field: a bad URL fails both its pattern and its format, for instance.
  const problems = ranked.filter((problem, index) => ranked.findIndex((p) => p.field === problem.field) === index);
  const [first] = problems;
  const all = problems.map(({ field, message }) => ({ field, message }));
  return invalidRequest(first.field, first.message, {
    ...first.metadata,
    ...(problems.length > 1 ? { errors: all } : {}),
  });
}

function describe(error: ErrorObject): RankedProblem {
  const path = fieldPath(error.instancePath);
  const field = path === '' ? 'body' : path;
  const value: unknown = error.data;
  const schema = error.parentSchema ?? {};
  switch (error.keyword) {
    case 'additionalProperties':
      // The name is the client's: cut, like any value, so that a huge key cannot bloat the answer.
      return unknownField(path, cut(String(error.params.additionalProperty)), Object.keys(schema.properties ?? {}));
    case 'required': {
      const missing = childPath(path, String(error.params.missingProperty));
      return { rank: Rank.Missing, field: missing, message: `${missing} is required`, metadata: {} };
    }
    case 'type':
      return {
        rank: Rank.WrongType,
        field,
        message: `${field} must be ${typeNames[error.params.type] ?? error.params.type}, got ${shown(value)}`,
        metadata: { value: preview(value), type: error.params.type },
      };
    case 'enum':
      return notAllowed(field, value, error.params.allowedValues);
    case 'format':
    case 'pattern':
      return {
        rank: Rank.NotAllowed,
        field,
        message:
          schema.format === 'uri'
            ? `${field} must be an http(s) URL, got ${shown(value)}`
            : `${field} ${error.message}, got ${shown(value)}`,
        metadata: { value: preview(value) },
      };
    case 'minimum':
    case 'maximum':
      return {
        rank: Rank.OutOfRange,
        field,
        message: `${field} must be ${typeNames[schema.type] ?? 'a number'} ${bounds(schema.minimum, schema.maximum)}, got ${value}`,
        metadata: { value, ...definedEntries({ minimum: schema.minimum, maximum: schema.maximum }) },
      };
    case 'minLength':
    case 'maxLength': {
      const length = Array.from(value as string).length;
      return {
        rank: Rank.OutOfRange,
        field,
        message: `${field} must be ${bounds(schema.minLength, schema.maxLength)} characters, got ${length}`,
        metadata: {
          value: preview(value),
          length,
          ...definedEntries({ minLength: schema.minLength, maxLength: schema.maxLength }),
        },
      };
    }
    case 'minItems':
    case 'maxItems': {
      const count = (value as unknown[]).length;
      return {
        rank: Rank.OutOfRange,
        field,
        message: `${field} must have ${bounds(schema.minItems, schema.maxItems, 'to')} items, got ${count}`,
        metadata: { count, ...definedEntries({ minItems: schema.minItems, maxItems: schema.maxItems }) },
      };
    }
    default:
      // A keyword the model schemas do not use today: still a clear, field-named refusal.
      return { rank: Rank.Other, field, message: `${field} ${error.message}`, metadata: { value: preview(value) } };
  }
}

const typeNames: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
};

function unknownField(parentPath: string, name: string, documented: readonly string[]): RankedProblem {
  const field = childPath(parentPath, name);
  const closestName = suggestion(name, documented);
  if (closestName === undefined) {
    return {
      rank: Rank.UnknownField,
      field,
      message: `unknown field "${field}"; documented fields: ${documented.join(', ')}`,
      metadata: {},
    };
  }
  const suggested = childPath(parentPath, closestName);
  return {
    rank: Rank.UnknownField,
    field,
    message: `unknown field "${field}"; did you mean "${suggested}"?`,
    metadata: { suggestion: suggested },
  };
}

function notAllowed(field: string, value: unknown, allowed: readonly unknown[]): RankedProblem {
  const closestValue = typeof value === 'string' ? suggestion(value, allowed.map(String)) : undefined;
  const hint = closestValue === undefined ? '' : `; did you mean "${closestValue}"?`;
  return {
    rank: Rank.NotAllowed,
    field,
    message: `${field} must be one of ${allowed.join(', ')}, got ${shown(value)}${hint}`,
    metadata: { value: preview(value), allowed, ...definedEntries({ suggestion: closestValue }) },
  };
}

/** The closest candidate, if it is close enough to be a typo (ignoring case). */
function suggestion(word: string, candidates: readonly string[]): string | undefined {
  const typoDistance = Math.max(2, Math.floor(word.length / 3));
  // Candidates whose length alone puts them too far away are not even compared.
  const byLowerCase = new Map(
    candidates
      .filter((candidate) => Math.abs(candidate.length - word.length) <= typoDistance)
      .map((candidate) => [candidate.toLowerCase(), candidate]),
  );
  if (byLowerCase.size === 0) return undefined;
  const nearest = closest(word.toLowerCase(), [...byLowerCase.keys()]);
  return distance(word.toLowerCase(), nearest) <= typoDistance ? byLowerCase.get(nearest) : undefined;
}

/** "between 2 and 15", "at most 500", "at least 1"; `joiner` "to" gives "1 to 5". */
function bounds(minimum: number | undefined, maximum: number | undefined, joiner?: 'to'): string {
  if (minimum !== undefined && maximum !== undefined) {
    return joiner === 'to' ? `${minimum} to ${maximum}` : `between ${minimum} and ${maximum}`;
  }
  return minimum !== undefined ? `at least ${minimum}` : `at most ${maximum}`;
}

function definedEntries(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

/** JSON pointer `/media/1/type` → `media[1].type`. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : childPath(path, segment)), '');
}

function childPath(parentPath: string, name: string): string {
  return parentPath === '' ? name : `${parentPath}.${name}`;
}

/** Values are quoted in messages and metadata up to this many characters: enough to recognise. */
const previewLength = 80;

function cut(text: string): string {
  const codePoints = Array.from(text);
  return codePoints.length > previewLength ? `${codePoints.slice(0, previewLength - 1).join('')}…` : text;
}

/** The value received, for metadata: strings cut, objects and arrays as their JSON text, cut. */
function preview(value: unknown): unknown {
  if (typeof value === 'string') return cut(value);
  if (typeof value === 'object' && value !== null) return cut(JSON.stringify(value));
  return value;
}

/** The value received, for a message: as JSON, cut. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) return cut(JSON.stringify(value));
  return JSON.stringify(preview(value));
}
