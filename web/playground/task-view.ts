import { WanApiError } from '../../src/client/errors.js';
import type { TaskResult } from '../../src/client/types.js';
import type { PlaygroundApi } from './api.js';
import type { JsonSchema } from './api-models.js';
import { curlCommand, wanCommand } from './commands.js';
import { fill, h } from './dom.js';
import type { FieldError } from './schema-form.js';
import type { FollowMode } from './task-events.js';
import { isRunning, statusLabel } from './task-status.js';

/** The request a task was created from, to show it again as commands. */
export interface SubmittedRequest {
  modelId: string;
  schema: JsonSchema;
  body: Record<string, unknown>;
}

const modeNotes: Record<FollowMode, string> = {
  stream: 'live from the status stream (GET /v3/async/task-events)',
  polling: 'read every second (GET /v3/async/task-result): this server has no status stream',
};

/**
 * The task just submitted: a progress bar with its ETA while it runs, then the video playing in
 * the page with a download link and the request as `curl` and `wan` commands, or why it failed.
 */
export class TaskView {
  readonly element: HTMLElement;
  private readonly heading = h('h2', {}, 'Task');
  private readonly statusText = h('span', { class: 'task-status' });
  private readonly etaText = h('span', { class: 'eta' });
  private readonly progress = h('progress', { id: 'task-progress', max: 100, value: 0 });
  private readonly modeNote = h('p', { class: 'note' });
  private readonly cancelButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel task');
  private readonly outcome = h('div', { class: 'outcome' });
  private following?: AbortController;
  private taskId = '';

  constructor(
    private readonly api: PlaygroundApi,
    /** Shows a failed task's error beside the field it names. */
    private readonly showFieldErrors: (errors: FieldError[]) => void,
  ) {
    this.element = h(
      'section',
      { class: 'task-view', 'aria-label': 'Task', hidden: true },
      this.heading,
      h('p', { class: 'status-line' }, this.statusText, ' ', this.etaText),
      h('label', { for: this.progress.id }, 'Progress'),
      this.progress,
      this.modeNote,
      this.cancelButton,
      this.outcome,
    );
    this.cancelButton.addEventListener('click', () => void this.cancel());
  }

  /** Follows a new task; the one followed before is let go (it goes on on the server). */
  start(taskId: string, request: SubmittedRequest): void {
    this.following?.abort();
    const following = new AbortController();
    this.following = following;
    this.taskId = taskId;
    this.element.hidden = false;
    fill(this.heading, 'Task ', h('code', {}, taskId));
    fill(this.statusText, 'Submitted');
    fill(this.etaText, '');
    fill(this.modeNote, '');
    fill(this.outcome);
    this.progress.value = 0;
    this.cancelButton.hidden = false;
    this.cancelButton.disabled = false;
    this.api
      .follow(taskId, { signal: following.signal, onUpdate: (result, mode) => this.update(result, mode) })
      .then((result) => this.finish(result, request))
      .catch((error: unknown) => {
        if (following.signal.aborted) return;
        this.cancelButton.hidden = true;
        fill(this.outcome, h('p', { class: 'failure', role: 'alert' }, `Lost track of the task: ${(error as Error).message}`));
      });
  }

  private update(result: TaskResult, mode: FollowMode): void {
    const { task } = result;
    this.progress.value = task.progress_percent;
    fill(this.statusText, `${statusLabel(task)} · ${task.progress_percent}%`);
    fill(this.etaText, isRunning(task) ? `ETA ${formatSeconds(task.eta)}` : '');
    fill(this.modeNote, `Progress ${modeNotes[mode]}.`);
  }

  private finish(result: TaskResult, request: SubmittedRequest): void {
    this.cancelButton.hidden = true;
    const video = result.videos[0];
    const commands = commandBlock(this.api.baseUrl, request);
    if (result.task.status === 'TASK_STATUS_SUCCEED' && video) {
      fill(
        this.outcome,
        h('video', { controls: true, playsinline: true, preload: 'auto', src: video.video_url, 'aria-label': `video of task ${result.task.task_id}` }),
        h(
          'p',
          { class: 'actions' },
          h('a', { class: 'button', href: video.video_url, download: `${result.task.task_id}.mp4` }, 'Download'),
          ` The link works for ${formatSeconds(Number(video.video_url_ttl))}, with no key.`,
        ),
        commands,
      );
      return;
    }
    const error = result.extra.error;
    fill(
      this.outcome,
      h('p', { class: 'failure', role: 'alert' }, `Failed: ${result.task.reason || 'no reason given'}${error ? ` (${error.reason})` : ''}`),
      commands,
    );
    const field = error?.metadata?.field;
    if (typeof field === 'string') this.showFieldErrors([{ field, message: error!.message }]);
  }

  private async cancel(): Promise<void> {
    this.cancelButton.disabled = true;
    try {
      const result = await this.api.cancel(this.taskId);
      // Cancelled: the stream (or the next poll) reports the failed state and ends the view.
      if (result === undefined) fill(this.modeNote, 'This server cannot cancel tasks (POST /v3/async/task-cancel answered 404).');
    } catch (error) {
      fill(this.modeNote, error instanceof WanApiError ? error.message : String(error));
      this.cancelButton.disabled = false;
    }
  }
}

/** The request as `curl` and `wan` commands, each with a copy button. */
function commandBlock(baseUrl: string, request: SubmittedRequest): HTMLElement {
  const block = (title: string, label: string, text: string) => {
    const pre = h('pre', { 'aria-label': label }, text);
    const feedback = h('span', { class: 'copied', 'aria-live': 'polite' });
    const button = h('button', { type: 'button', class: 'secondary' }, title);
    button.addEventListener('click', () => void copy(text, pre, feedback));
    return h('div', { class: 'command' }, h('p', {}, button, ' ', feedback), pre);
  };
  return h(
    'div',
    { class: 'commands' },
    h('p', { class: 'note' }, 'Run this request again from a shell (the key is read from $WAN_API_KEY):'),
    block('Copy as curl', 'curl command', curlCommand(baseUrl, request.modelId, request.body)),
    block('Copy as wan command', 'wan command', wanCommand(baseUrl, request.modelId, request.schema, request.body)),
  );
}

/**
 * The clipboard API exists only on secure origins (https, localhost); elsewhere (the playground of
 * a server on the LAN over http) the text is selected for the user to copy.
 */
async function copy(text: string, pre: HTMLElement, feedback: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    fill(feedback, 'Copied.');
  } catch {
    getSelection()?.selectAllChildren(pre);
    fill(feedback, 'Selected: press Ctrl+C (this page is not on a secure origin, which the clipboard needs).');
  }
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
