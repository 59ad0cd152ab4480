/**
 * The models the server offers and their request schemas, read from its `GET /openapi.json`: the
 * document is built from the very schemas the server validates with, so the form cannot offer a
 * field, a limit or a default the server does not have.
 */

/** The part of JSON Schema the request schemas use. */
export interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: string[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  $ref?: string;
}

export interface PlaygroundModel {
  /** `wan2.7-t2v`: the last segment of its create-task path. */
  id: string;
  title: string;
  schema: JsonSchema;
}

interface OpenApiDocument {
  paths: Record<string, { post?: { summary?: string; tags?: string[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } } }>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const createTaskPath = /^\/v3\/async\/([^/]+)$/;
/** The document's tag of create-task operations: other POSTs under /v3/async/ (task-cancel) are not models. */
const createTaskTag = 'Video generation';

/** Every create-task operation of the document, in its order, with its resolved request schema. */
export function modelsOf(document: OpenApiDocument): PlaygroundModel[] {
  const models: PlaygroundModel[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const id = createTaskPath.exec(path)?.[1];
    const schema = item.post?.requestBody?.content?.['application/json']?.schema;
    if (id === undefined || schema === undefined || !item.post?.tags?.includes(createTaskTag)) continue;
    models.push({ id, title: item.post?.summary ?? id, schema: resolve(document, schema) });
  }
  return models;
}

function resolve(document: OpenApiDocument, schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = document.components?.schemas?.[name];
  if (target === undefined) throw new Error(`openapi.json: ${schema.$ref} is not in components.schemas`);
  return target;
}
