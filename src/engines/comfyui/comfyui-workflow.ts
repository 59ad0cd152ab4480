import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Workflows in ComfyUI's API format (`{"<node id>": {"class_type": …, "inputs": {…}}}`, what
 * "Export (API)" writes) with placeholders where the request goes: an input whose value is
 * `"{{seed}}"` becomes the seed, as a number; `{{prompt}}` inside a longer text is replaced in
 * the text. One workflow per variant of a task (see `variants`); the defaults ship in the
 * package's `workflows/` folder, built on the nodes of ComfyUI's Wan 2.2 templates.
 */

export type Variant = 't2v' | 'i2v' | 'flf2v' | 's2v' | 'r2v' | 'videoedit';

/** Every placeholder, and whether its value is text or a number. File placeholders take the uploaded file's name. */
export const placeholders = {
  prompt: 'text',
  negative_prompt: 'text',
  seed: 'integer',
  width: 'integer',
  height: 'integer',
  length: 'integer',
  fps: 'number',
  filename_prefix: 'text',
  first_frame: 'file',
  last_frame: 'file',
  driving_audio: 'file',
  reference_image: 'file',
  input_video: 'file',
} as const;

export type Placeholder = keyof typeof placeholders;

const common: readonly Placeholder[] = ['prompt', 'negative_prompt', 'seed', 'width', 'height', 'length', 'fps'];

/**
 * What each variant's workflow must contain (`needs`) and may contain (`may`). A workflow that
 * lacks a needed placeholder would ignore part of every request, so it is refused at start.
 */
export const variants: Record<Variant, { needs: readonly Placeholder[]; may: readonly Placeholder[]; file: string }> = {
  t2v: { needs: common, may: ['filename_prefix'], file: 'wan2.2-t2v-a14b.json' },
  i2v: { needs: [...common, 'first_frame'], may: ['filename_prefix'], file: 'wan2.2-i2v-a14b.json' },
  flf2v: { needs: [...common, 'first_frame', 'last_frame'], may: ['filename_prefix'], file: 'wan2.2-flf2v-a14b.json' },
  s2v: { needs: [...common, 'first_frame', 'driving_audio'], may: ['filename_prefix'], file: 'wan2.2-s2v-14b.json' },
  r2v: { needs: [...common, 'reference_image'], may: ['filename_prefix'], file: 'wan2.1-vace-r2v-14b.json' },
  videoedit: { needs: [...common, 'input_video'], may: ['filename_prefix', 'reference_image'], file: 'wan2.1-vace-v2v-14b.json' },
};

/** The package's `workflows/` folder (beside `src/` and `dist/`). */
export const defaultWorkflowDirectory = path.resolve(import.meta.dirname, '../../../workflows');

export interface Workflow {
  variant: Variant;
  file: string;
  nodes: Record<string, WorkflowNode>;
  /** The placeholders it contains. */
  uses: ReadonlySet<Placeholder>;
  /** Ids of its sampler nodes, whose step counts make the progress. */
  samplers: readonly string[];
}

export interface WorkflowNode {
  class_type: string;
  inputs: Record<string, unknown>;
  [other: string]: unknown;
}

const placeholderPattern = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Reads and checks a workflow file; throws an Error saying what is wrong with it. */
export function loadWorkflow(variant: Variant, file: string): Workflow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the workflow ${file}: ${(error as Error).message}`);
  }
  return checkWorkflow(variant, file, parsed);
}

export function checkWorkflow(variant: Variant, file: string, parsed: unknown): Workflow {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new Error(`${file} is not a workflow in ComfyUI's API format ({"<node id>": {"class_type": …, "inputs": {…}}}, from "Export (API)")`);
  }
  const nodes = parsed as Record<string, unknown>;
  const uses = new Set<Placeholder>();
  const samplers: string[] = [];
  const allowed = new Set<string>([...variants[variant].needs, ...variants[variant].may]);
  for (const [id, node] of Object.entries(nodes)) {
    const { class_type: classType, inputs } = (node ?? {}) as Record<string, unknown>;
    if (typeof classType !== 'string' || typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw new Error(
        `${file}: node "${id}" has no class_type and inputs; is this the API format (ComfyUI's "Export (API)"), not the UI format?`,
      );
    }
    if (/sampler/i.test(classType)) samplers.push(id);
    for (const name of placeholdersIn(inputs)) {
      if (!(name in placeholders)) {
        throw new Error(`${file}: node "${id}" uses {{${name}}}, which is no placeholder; the placeholders are ${Object.keys(placeholders).join(', ')}`);
      }
      if (!allowed.has(name)) throw new Error(`${file}: node "${id}" uses {{${name}}}, which a ${variant} task has no value for`);
      uses.add(name as Placeholder);
    }
  }
  const missing = variants[variant].needs.filter((name) => !uses.has(name));
  if (missing.length > 0) {
    throw new Error(`${file} lacks ${missing.map((name) => `{{${name}}}`).join(', ')}, which a ${variant} workflow needs`);
  }
  return { variant, file, nodes: nodes as Record<string, WorkflowNode>, uses, samplers };
}

/**
 * The workflow with every placeholder replaced by its value: a whole-value placeholder takes the
 * value's type (a number stays a number), one inside a text is written into the text.
 */
export function bindWorkflow(workflow: Workflow, values: Partial<Record<Placeholder, string | number>>): Record<string, WorkflowNode> {
  const bind = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\{\{\s*([a-z_]+)\s*\}\}$/.exec(value);
      if (whole) return valueOf(whole[1]);
      return value.replace(placeholderPattern, (_match, name: string) => String(valueOf(name)));
    }
    if (Array.isArray(value)) return value.map(bind);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, bind(item)]));
    return value;
  };
  const valueOf = (name: string): string | number => {
    const value = values[name as Placeholder];
    if (value === undefined) throw new Error(`no value for {{${name}}} of ${workflow.file}`);
    return value;
  };
  return Object.fromEntries(Object.entries(workflow.nodes).map(([id, node]) => [id, { ...node, inputs: bind(node.inputs) as Record<string, unknown> }]));
}

function placeholdersIn(value: unknown): string[] {
  if (typeof value === 'string') return [...value.matchAll(placeholderPattern)].map((match) => match[1]);
  if (Array.isArray(value)) return value.flatMap(placeholdersIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(placeholdersIn);
  return [];
}
