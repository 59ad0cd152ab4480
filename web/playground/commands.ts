import type { JsonSchema } from './api-models.js';

/**
 * The request the playground sent, as commands to run again from a shell: `curl` against the
 * create-task endpoint, and the `wan` command, whose flags are derived from the same schema
 * (src/cli/model-flags.ts): `field_name` is `--field-name`, a boolean `--field` / `--no-field`,
 * an array item `--media key=value,key=value`, an object `--extra <json>`, and the prompt the
 * first argument. Both read the key from `$WAN_API_KEY`, so no key ends up in a shell history.
 * (The CLI's code needs Node, so it is not bundled here; test/unit/playground-commands.test.ts
 * parses these commands with the CLI's own flags, so the two cannot drift apart.)
 */

export function curlCommand(baseUrl: string, modelId: string, body: Record<string, unknown>): string {
  return [
    `curl -s ${quote(`${baseUrl}/v3/async/${modelId}`)}`,
    `-H "Authorization: Bearer $WAN_API_KEY"`,
    `-H 'Content-Type: application/json'`,
    `-d ${quote(JSON.stringify(body))}`,
  ].join(' \\\n  ');
}

export function wanCommand(baseUrl: string, modelId: string, schema: JsonSchema, body: Record<string, unknown>): string {
  const words = ['wan', modelId.slice(modelId.indexOf('-') + 1)];
  const { prompt } = body;
  // A prompt that starts with "-" would be read as a flag: it goes as --prompt then.
  const promptAsArgument = typeof prompt === 'string' && !prompt.startsWith('-');
  if (promptAsArgument) words.push(quote(prompt));
  for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
    const value = body[field];
    if (value === undefined || (field === 'prompt' && promptAsArgument)) continue;
    words.push(...flagWords(field, fieldSchema, value));
  }
  words.push('--api-url', quote(baseUrl));
  return words.join(' ');
}

function flagWords(field: string, schema: JsonSchema, value: unknown): string[] {
  const flag = `--${field.replaceAll('_', '-')}`;
  switch (schema.type) {
    case 'boolean':
      return [value ? flag : `--no-${flag.slice(2)}`];
    case 'array':
      return (value as Record<string, unknown>[]).flatMap((item) => [
        flag,
        quote(
          Object.entries(item)
            .map(([key, itemValue]) => `${key}=${String(itemValue)}`)
            .join(','),
        ),
      ]);
    case 'object':
      return [flag, quote(JSON.stringify(value))];
    default:
      return [flag, quote(String(value))];
  }
}

/** A POSIX shell word: as it is when it holds nothing the shell reads, else in single quotes. */
export function quote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
