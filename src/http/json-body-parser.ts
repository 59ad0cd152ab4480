import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../spec/api-error.js';
import { maxNestingDepth, nestedTooDeep } from '../models/validate-request.js';

/** The media type of the bodies this parser reads. */
export const jsonContentType = 'application/json';

/**
 * Fastify's JSON parser (with its refusal of `__proto__` and `constructor.prototype` keys),
 * preceded by the nesting limit, checked on the raw text without recursion before anything is
 * parsed (see maxNestingDepth), and followed by messages that say what is wrong with the text.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(jsonContentType);
  // Read as a string: Fastify's own body reader buffers the body first (see body-deadline.ts).
  app.addContentTypeParser(jsonContentType, { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(invalidRequest('body', 'the request body is empty: send a JSON object'), undefined);
    if (nestsDeeperThan(text, maxNestingDepth)) return done(nestedTooDeep(), undefined);
    parse(request, text, (error, value) => (error ? done(whyNotJson(text), undefined) : done(null, value)));
  });
}

/** Whether `{` and `[` nest deeper than `limit` in JSON text, in one pass; brackets inside strings do not count. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === backslash) index++;
      else if (char === quote) inString = false;
    } else if (char === quote) inString = true;
    else if (char === openBrace || char === openBracket) {
      if (++depth > limit) return true;
    } else if (char === closeBrace || char === closeBracket) depth--;
  }
  return false;
}

const [quote, backslash, openBrace, closeBrace, openBracket, closeBracket] = ['"', '\\', '{', '}', '[', ']'].map((char) => char.charCodeAt(0));

/** Fastify says only "not valid JSON"; JSON.parse says where, and a refused key is named. */
function whyNotJson(text: string) {
  try {
    JSON.parse(text);
  } catch (error) {
    return invalidRequest('body', `the request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  return invalidRequest('body', 'the request body has a "__proto__" key, or a "constructor" key holding "prototype": such keys can alter objects in the server and are refused');
}
