import './style.css';
import { WanApiError } from '../../src/client/errors.js';
import { PlaygroundApi } from './api.js';
import type { PlaygroundModel } from './api-models.js';
import { savedKey, submittedTasks } from './browser-storage.js';
import { fill, h } from './dom.js';
import { type FieldError, SchemaForm } from './schema-form.js';
import { TaskList } from './task-list.js';
import { TaskView } from './task-view.js';

/**
 * The playground page: the key, the model and its form, the task being followed, and the task
 * list. It talks to the server it is served from, through the public API only.
 */

const element = <Type extends HTMLElement>(id: string) => document.getElementById(id) as Type;

const keyInput = element<HTMLInputElement>('api-key');
const keyError = element<HTMLElement>('api-key-error');
const modelSelect = element<HTMLSelectElement>('model');
const modelHelp = element<HTMLElement>('model-help');
const fields = element<HTMLElement>('fields');
const taskForm = element<HTMLFormElement>('task-form');
const formError = element<HTMLElement>('form-error');
const submitButton = element<HTMLButtonElement>('submit');

// `./` of the page: the API lives beside it, under the same prefix when a proxy adds one.
const api = new PlaygroundApi(new URL('.', location.href).href.replace(/\/$/, ''), () => keyInput.value.trim());
// A failed task's field error is shown on its own form only, not on another model's picked since.
const taskView = new TaskView(api, (errors) => {
  if (form === submittedForm) form?.showErrors(errors);
});
const taskList = new TaskList(api);
element('task-panel').append(taskView.element);
element('tasks').append(taskList.element);

let models: PlaygroundModel[] = [];
let form: SchemaForm | undefined;
let submittedForm: SchemaForm | undefined;

keyInput.value = savedKey.get();
keyInput.addEventListener('input', () => {
  savedKey.set(keyInput.value.trim());
  showKeyError('');
});
element('forget-key').addEventListener('click', () => {
  keyInput.value = '';
  savedKey.set('');
});

for (const tab of document.querySelectorAll<HTMLButtonElement>('nav [data-view]')) {
  tab.addEventListener('click', () => showView(tab.dataset.view!));
}

function showView(view: string): void {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('nav [data-view]')) {
    const selected = tab.dataset.view === view;
    tab.setAttribute('aria-pressed', String(selected));
    element(tab.dataset.view!).hidden = !selected;
  }
  if (view === 'tasks') taskList.show();
  else taskList.hide();
}

// A file dropped beside a URL field would make the browser open it, leaving the page and its state.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());

modelSelect.addEventListener('change', () => showModel(modelSelect.value));

function showModel(id: string): void {
  const model = models.find((candidate) => candidate.id === id)!;
  fill(modelHelp, model.schema.description ?? '');
  form = new SchemaForm(model.schema, (file) => api.upload(file));
  fill(fields, form.element);
  showFormError('');
}

taskForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void submit();
});

async function submit(): Promise<void> {
  const model = models.find((candidate) => candidate.id === modelSelect.value);
  if (!form || !model) return;
  form.clearErrors();
  showFormError('');
  if (keyInput.value.trim() === '') {
    showKeyError('Paste your API key first: the server printed one on its first start (`wan keys create` makes more).');
    keyInput.focus();
    return;
  }
  submitButton.disabled = true;
  try {
    await form.uploadsSettled();
    const { body, errors } = form.read();
    if (errors.length > 0) {
      form.showErrors(errors);
      return;
    }
    const taskId = await api.submit(model.id, body);
    submittedTasks.add(taskId);
    submittedForm = form;
    taskView.start(taskId, { modelId: model.id, schema: model.schema, body });
  } catch (error) {
    showSubmitError(error);
  } finally {
    submitButton.disabled = false;
  }
}

function showSubmitError(error: unknown): void {
  if (!(error instanceof WanApiError)) {
    showFormError(String(error));
    return;
  }
  if (error.reason === 'MISSING_API_KEY' || error.reason === 'INVALID_API_KEY') {
    showKeyError(error.message);
    return;
  }
  if (error.reason === 'INVALID_REQUEST_BODY' && form) {
    const unplaced = form.showErrors(fieldErrorsOf(error));
    showFormError(unplaced.map((unplacedError) => unplacedError.message).join(' · '));
    return;
  }
  showFormError(`${error.message}${error.reason ? ` (${error.reason})` : ''}`);
}

/** Every rule the request broke: `metadata.errors` when there are several, else the one field. */
function fieldErrorsOf(error: WanApiError): FieldError[] {
  const listed = error.metadata.errors;
  if (Array.isArray(listed) && listed.length > 0) return listed as FieldError[];
  const field = typeof error.metadata.field === 'string' ? error.metadata.field : 'body';
  return [{ field, message: error.message }];
}

function showFormError(message: string): void {
  fill(formError, message);
  formError.hidden = message === '';
}

function showKeyError(message: string): void {
  fill(keyError, message);
  keyError.hidden = message === '';
  if (message === '') keyInput.removeAttribute('aria-invalid');
  else keyInput.setAttribute('aria-invalid', 'true');
}

async function start(): Promise<void> {
  try {
    models = await api.models();
  } catch (error) {
    showFormError(`Cannot read the models from ${api.baseUrl}/openapi.json: ${(error as Error).message}`);
    return;
  }
  fill(modelSelect, ...models.map((model) => h('option', { value: model.id }, `${model.title} (${model.id})`)));
  showModel(models[0].id);
  submitButton.disabled = false;
  // The form is there: what the browser tests and the screenshot script wait for.
  document.body.dataset.ready = 'true';
}

void start();
