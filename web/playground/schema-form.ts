import type { JsonSchema } from './api-models.js';
import { fill, h, uniqueId } from './dom.js';

/**
 * A form generated from a model's request schema (as `GET /openapi.json` serves it): a control per
 * field with its description, limits and default, a file drop on every URL field, and a slot
 * beside each field where an error naming it (`duration`, `media[1].url`) is shown.
 *
 * The form does not repeat the server's rules: its values go as typed, and the server's answer
 * names what is wrong. A field left at its default is left out of the body, so the request (and
 * the commands copied from it) say only what differs; the server applies the same defaults.
 */

/** An error about one field, as the API's `metadata.field` / `metadata.errors` name it. */
export interface FieldError {
  field: string;
  message: string;
}

/** Turns a local file into a URL the server can fetch (`POST /v3/uploads`). */
export type Uploader = (file: File) => Promise<string>;

interface Context {
  uploader: Uploader;
  uploads: Set<Promise<void>>;
}

/** Where a field sits on the page: its label, help, upload status and error slot. */
class FieldFrame {
  readonly element: HTMLElement;
  readonly error: HTMLElement;
  readonly status: HTMLElement;
  private readonly help: HTMLElement;
  private readonly labelText: HTMLElement;

  constructor(
    public path: string,
    schema: JsonSchema,
    required: boolean,
    private readonly controls: HTMLElement[],
    kind: 'field' | 'checkbox' | 'group',
  ) {
    const id = controls[0]?.id || uniqueId('group');
    this.help = h('p', { class: 'help', id: `${id}-help` }, schema.description ?? '', limitsOf(schema));
    this.status = h('p', { class: 'status', id: `${id}-status`, 'aria-live': 'polite', hidden: true });
    this.error = h('p', { class: 'error', id: `${id}-error`, hidden: true });
    this.labelText = h('code', {}, path);
    // The field's accessible name is its path alone; being required is said by aria-required.
    const requiredMark = required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' required') : null;
    for (const control of this.inputs()) {
      control.setAttribute('aria-describedby', `${this.help.id} ${this.status.id} ${this.error.id}`);
      if (required) control.setAttribute('aria-required', 'true');
    }
    if (kind === 'group') {
      this.element = h('fieldset', { class: 'field group' }, h('legend', {}, this.labelText, requiredMark), this.help, this.error);
    } else {
      const label = h('label', { for: id }, this.labelText);
      this.element =
        kind === 'checkbox'
          ? h('div', { class: 'field checkbox' }, h('div', { class: 'inline' }, ...controls, label), this.help, this.error)
          : h('div', { class: 'field' }, h('div', { class: 'label-line' }, label, requiredMark), ...controls, this.help, this.status, this.error);
    }
  }

  setPath(path: string): void {
    this.path = path;
    this.labelText.textContent = path;
  }

  showError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = false;
    this.element.classList.add('invalid');
    for (const control of this.inputs()) control.setAttribute('aria-invalid', 'true');
  }

  clearError(): void {
    this.error.hidden = true;
    this.error.textContent = '';
    this.element.classList.remove('invalid');
    for (const control of this.inputs()) control.removeAttribute('aria-invalid');
  }

  showStatus(text: string): void {
    this.status.textContent = text;
    this.status.hidden = text === '';
  }

  /** The form controls of this field (not its upload button): they carry its aria state. */
  private inputs(): HTMLElement[] {
    return this.controls.filter(
      (control) => control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement,
    );
  }

  focus(): void {
    (this.controls[0] ?? this.element).focus();
  }
}

/** One field of the form, however it is edited. */
interface Control {
  frame: FieldFrame;
  /** The value to send; undefined leaves the field out. Local problems (malformed JSON) go in `errors`. */
  read(errors: FieldError[]): unknown;
  setPath(path: string): void;
  /** This control's frame and those of the fields inside it. */
  frames(): FieldFrame[];
}

export class SchemaForm {
  readonly element: HTMLElement;
  private readonly controls: Control[];
  private readonly uploads = new Set<Promise<void>>();

  constructor(schema: JsonSchema, uploader: Uploader) {
    const context = { uploader, uploads: this.uploads };
    const required = new Set(schema.required ?? []);
    this.controls = Object.entries(schema.properties ?? {}).map(([name, fieldSchema]) =>
      controlFor(name, fieldSchema, required.has(name), context),
    );
    this.element = h('div', { class: 'schema-form' }, ...this.controls.map((control) => control.frame.element));
  }

  /** The request body, and the fields whose value cannot be sent as it is. */
  read(): { body: Record<string, unknown>; errors: FieldError[] } {
    const body: Record<string, unknown> = {};
    const errors: FieldError[] = [];
    for (const control of this.controls) {
      const value = control.read(errors);
      if (value !== undefined) body[control.frame.path] = value;
    }
    return { body, errors };
  }

  /** Resolves once every upload under way has ended (filled its field or shown its error). */
  async uploadsSettled(): Promise<void> {
    while (this.uploads.size > 0) await Promise.all([...this.uploads]);
  }

  /**
   * Shows each error beside the field it names, or beside the nearest enclosing one (`media[1]`,
   * then `media`); answers the errors no field of the form matches (`body`, an unknown field).
   */
  showErrors(errors: FieldError[]): FieldError[] {
    this.clearErrors();
    const frames = new Map(this.controls.flatMap((control) => control.frames()).map((frame) => [frame.path, frame]));
    const unplaced: FieldError[] = [];
    const shown: FieldFrame[] = [];
    const messages = new Map<FieldFrame, string[]>();
    for (const error of errors) {
      const frame = enclosingPaths(error.field).map((path) => frames.get(path)).find((found) => found !== undefined);
      if (frame === undefined) {
        unplaced.push(error);
        continue;
      }
      if (!messages.has(frame)) shown.push(frame);
      messages.set(frame, [...(messages.get(frame) ?? []), error.message]);
    }
    for (const frame of shown) frame.showError(messages.get(frame)!.join(' · '));
    shown[0]?.focus();
    return unplaced;
  }

  clearErrors(): void {
    for (const control of this.controls) for (const frame of control.frames()) frame.clearError();
  }
}

/** `media[1].url` → `media[1].url`, `media[1]`, `media`. */
function enclosingPaths(path: string): string[] {
  const paths = [path];
  for (let current = path; /[.[]/.test(current); ) {
    current = current.replace(/(\.[^.[]*|\[\d+\])$/, '');
    paths.push(current);
  }
  return paths;
}

/** The limits a reader needs beside the description: range, length, items, default. */
function limitsOf(schema: JsonSchema): HTMLElement | null {
  const parts: string[] = [];
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum} to ${schema.maximum}`);
  else if (schema.minimum !== undefined) parts.push(`at least ${schema.minimum}`);
  else if (schema.maximum !== undefined) parts.push(`at most ${schema.maximum}`);
  if (schema.maxLength !== undefined && schema.format !== 'uri') parts.push(`at most ${schema.maxLength} characters`);
  if (schema.minItems !== undefined || schema.maxItems !== undefined) parts.push(`${schema.minItems ?? 0} to ${schema.maxItems ?? '∞'} items`);
  if (schema.format === 'uri') parts.push('an http(s) URL, or drop a file here to upload it');
  if (schema.default !== undefined) parts.push(`default: ${String(schema.default)}`);
  return parts.length === 0 ? null : h('span', { class: 'limits' }, ` ${parts.join(' · ')}`);
}

function controlFor(name: string, schema: JsonSchema, required: boolean, context: Context): Control {
  if (schema.enum) return selectControl(name, schema, required);
  switch (schema.type) {
    case 'boolean':
      return checkboxControl(name, schema);
    case 'integer':
    case 'number':
      return numberControl(name, schema, required);
    case 'array':
      return arrayControl(name, schema, required, context);
    case 'object':
      return jsonControl(name, schema, required);
    default:
      return schema.format === 'uri' ? urlControl(name, schema, required, context) : textControl(name, schema, required);
  }
}

/** A control made of one frame around one element, whose value `read` turns into the field's. */
function simpleControl(frame: FieldFrame, read: (errors: FieldError[]) => unknown): Control {
  return { frame, read, setPath: (path) => frame.setPath(path), frames: () => [frame] };
}

function selectControl(name: string, schema: JsonSchema, required: boolean): Control {
  const values = schema.enum ?? [];
  // A required choice without a default starts on the first value; an optional one may stay unset.
  const initial = schema.default ?? (required ? values[0] : '');
  const select = h(
    'select',
    { id: uniqueId('field'), name },
    initial === '' ? h('option', { value: '' }, '(not set)') : null,
    ...values.map((value) => h('option', { value, selected: value === initial }, value)),
  );
  const frame = new FieldFrame(name, schema, required, [select], 'field');
  return simpleControl(frame, () => (select.value === '' || select.value === schema.default ? undefined : select.value));
}

function checkboxControl(name: string, schema: JsonSchema): Control {
  const byDefault = schema.default === true;
  const checkbox = h('input', { type: 'checkbox', id: uniqueId('field'), name, checked: byDefault });
  const frame = new FieldFrame(name, schema, false, [checkbox], 'checkbox');
  return simpleControl(frame, () => (checkbox.checked === byDefault ? undefined : checkbox.checked));
}

function numberControl(name: string, schema: JsonSchema, required: boolean): Control {
  const input = h('input', {
    type: 'number',
    id: uniqueId('field'),
    name,
    min: schema.minimum,
    max: schema.maximum,
    step: schema.type === 'integer' ? 1 : 'any',
    value: typeof schema.default === 'number' ? schema.default : undefined,
  });
  const frame = new FieldFrame(name, schema, required, [input], 'field');
  return simpleControl(frame, () => {
    const raw = input.value.trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    return value === schema.default ? undefined : value;
  });
}

function textControl(name: string, schema: JsonSchema, required: boolean): Control {
  const textarea = h('textarea', { id: uniqueId('field'), name, rows: 3 });
  const frame = new FieldFrame(name, schema, required, [textarea], 'field');
  return simpleControl(frame, () => (textarea.value === '' ? undefined : textarea.value));
}

function jsonControl(name: string, schema: JsonSchema, required: boolean): Control {
  const textarea = h('textarea', { id: uniqueId('field'), name, rows: 2, class: 'code', placeholder: '{"webhook": {"url": "https://…"}}' });
  const frame = new FieldFrame(name, schema, required, [textarea], 'field');
  return simpleControl(frame, (errors) => {
    if (textarea.value.trim() === '') return undefined;
    try {
      const value: unknown = JSON.parse(textarea.value);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
      errors.push({ field: frame.path, message: `${frame.path} must be a JSON object` });
    } catch (error) {
      errors.push({ field: frame.path, message: `${frame.path} is not valid JSON: ${(error as Error).message}` });
    }
    return undefined;
  });
}

/** A URL field: type a URL, or drop (or pick) a local file, uploaded at once and its URL filled in. */
function urlControl(name: string, schema: JsonSchema, required: boolean, context: Context): Control {
  const input = h('input', { type: 'url', id: uniqueId('field'), name, placeholder: 'https://…', autocomplete: 'off' });
  const picker = h('input', { type: 'file', class: 'file-picker', 'aria-label': `upload a file for ${name}` });
  const pickerLabel = h('label', { class: 'button secondary file-button' }, 'Upload a file…', picker);
  const frame = new FieldFrame(name, schema, required, [input, pickerLabel], 'field');
  const upload = (file: File) => {
    frame.clearError();
    frame.showStatus(`uploading ${file.name} (${describeSize(file.size)})…`);
    input.disabled = true;
    const uploading = context
      .uploader(file)
      .then((url) => {
        input.value = url;
        frame.showStatus(`${file.name} uploaded`);
      })
      .catch((error: Error) => {
        frame.showStatus('');
        frame.showError(`${file.name}: ${error.message}`);
      })
      .finally(() => {
        input.disabled = false;
        context.uploads.delete(uploading);
      });
    context.uploads.add(uploading);
  };
  picker.addEventListener('change', () => {
    const file = picker.files?.[0];
    if (file) upload(file);
    picker.value = '';
  });
  frame.element.classList.add('drop-target');
  frame.element.addEventListener('dragover', (event) => {
    event.preventDefault();
    frame.element.classList.add('dragging');
  });
  frame.element.addEventListener('dragleave', () => frame.element.classList.remove('dragging'));
  frame.element.addEventListener('drop', (event) => {
    event.preventDefault();
    frame.element.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file) upload(file);
  });
  return {
    frame,
    read: () => (input.value.trim() === '' ? undefined : input.value.trim()),
    setPath: (path) => {
      frame.setPath(path);
      picker.setAttribute('aria-label', `upload a file for ${path}`);
    },
    frames: () => [frame],
  };
}

/** An array of objects (r2v `media`): one group of fields per item, in order. */
function arrayControl(name: string, schema: JsonSchema, required: boolean, context: Context): Control {
  const itemSchema = schema.items ?? {};
  const list = h('ol', { class: 'items' });
  const add = h('button', { type: 'button', class: 'secondary' }, `Add an item to ${name}`);
  const frame = new FieldFrame(name, schema, required, [], 'group');
  frame.element.append(list, add);
  const items: Control[] = [];
  let path = name;

  const renumber = () => {
    items.forEach((item, index) => item.setPath(`${path}[${index}]`));
    add.disabled = schema.maxItems !== undefined && items.length >= schema.maxItems;
  };
  const addItem = () => {
    const item = objectControl(`${path}[${items.length}]`, itemSchema, context, () => {
      items.splice(items.indexOf(item), 1);
      item.frame.element.closest('li')?.remove();
      renumber();
    });
    items.push(item);
    list.append(h('li', {}, item.frame.element));
    renumber();
  };
  add.addEventListener('click', addItem);
  for (let count = 0; count < Math.max(1, schema.minItems ?? 0); count++) addItem();

  return {
    frame,
    read: (errors) => (items.length === 0 ? undefined : items.map((item) => item.read(errors) ?? {})),
    setPath: (newPath) => {
      path = newPath;
      frame.setPath(newPath);
      renumber();
    },
    frames: () => [frame, ...items.flatMap((item) => item.frames())],
  };
}

/** One item of an array: a group of the item's fields, named `media[0].url` and so on. */
function objectControl(path: string, schema: JsonSchema, context: Context, remove: () => void): Control {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, fieldSchema]) => ({
    name,
    control: controlFor(name, fieldSchema, required.has(name), context),
  }));
  const frame = new FieldFrame(path, schema, false, [], 'group');
  const removeButton = h('button', { type: 'button', class: 'secondary' }, `Remove ${path}`);
  removeButton.addEventListener('click', remove);
  frame.element.append(...fields.map(({ control }) => control.frame.element), removeButton);
  const setPath = (newPath: string) => {
    frame.setPath(newPath);
    fill(removeButton, `Remove ${newPath}`);
    for (const { name, control } of fields) control.setPath(`${newPath}.${name}`);
  };
  setPath(path);
  return {
    frame,
    read: (errors) => {
      const value: Record<string, unknown> = {};
      for (const { name, control } of fields) {
        const fieldValue = control.read(errors);
        if (fieldValue !== undefined) value[name] = fieldValue;
      }
      return value;
    },
    setPath,
    frames: () => [frame, ...fields.flatMap(({ control }) => control.frames())],
  };
}

function describeSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
