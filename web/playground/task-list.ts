import { WanApiError } from '../../src/client/errors.js';
import type { TaskResult } from '../../src/client/types.js';
import type { PlaygroundApi } from './api.js';
import { submittedTasks } from './browser-storage.js';
import { fill, h } from './dom.js';
import { isRunning, statusLabel } from './task-status.js';

/** While a listed task runs, the list is read again this often. */
const refreshMs = 2000;

/**
 * The key's tasks, newest first (`GET /v3/async/tasks`), with status, a thumbnail of each video
 * (the video itself, `preload="metadata"`: the browser fetches only its first bytes) and a cancel
 * button on those still running. A server without the list gets the tasks submitted from this
 * browser instead, read one by one, and a note that says so.
 */
export class TaskList {
  readonly element: HTMLElement;
  private readonly note = h('p', { class: 'note', role: 'status' });
  private readonly message = h('p', { class: 'failure', role: 'alert', hidden: true });
  private readonly body = h('tbody');
  private timer?: ReturnType<typeof setTimeout>;
  private visible = false;

  constructor(private readonly api: PlaygroundApi) {
    const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.element = h(
      'section',
      { class: 'task-list', 'aria-label': 'Tasks' },
      h('div', { class: 'heading' }, h('h2', {}, 'Your tasks'), refresh),
      this.note,
      this.message,
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'Video'), h('th', {}, 'Task'), h('th', {}, 'Status'), h('th', {}, ''))),
        this.body,
      ),
    );
  }

  show(): void {
    this.visible = true;
    void this.refresh();
  }

  hide(): void {
    this.visible = false;
    clearTimeout(this.timer);
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    let tasks: TaskResult[];
    try {
      const listed = await this.api.tasks();
      fill(
        this.note,
        listed === undefined
          ? 'This server does not list tasks (GET /v3/async/tasks answered 404): these are the tasks submitted from this browser.'
          : '',
      );
      tasks = listed ?? (await this.submittedFromHere());
    } catch (error) {
      this.showMessage(error);
      return;
    }
    fill(this.body, ...tasks.map((result) => this.row(result)));
    if (tasks.length === 0) fill(this.body, h('tr', {}, h('td', { colspan: 4 }, 'No tasks yet.')));
    if (this.visible && tasks.some((result) => isRunning(result.task))) this.timer = setTimeout(() => void this.refresh(), refreshMs);
  }

  private async submittedFromHere(): Promise<TaskResult[]> {
    const reads = await Promise.allSettled(submittedTasks.ids().map((id) => this.api.result(id)));
    // A task of another key (the key was changed) answers TASK_NOT_FOUND: it is not this key's.
    return reads.flatMap((read) => (read.status === 'fulfilled' ? [read.value] : []));
  }

  private row(result: TaskResult): HTMLTableRowElement {
    const { task } = result;
    const video = result.videos[0];
    const thumbnail = video
      ? h(
          'a',
          { href: video.video_url, target: '_blank', rel: 'noopener' },
          // `#t=0.5` shows a frame from inside the video rather than its very first one.
          h('video', { class: 'thumbnail', preload: 'metadata', muted: true, playsinline: true, src: `${video.video_url}#t=0.5`, 'aria-label': `video of task ${task.task_id}` }),
        )
      : null;
    const cancel = isRunning(task) ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Cancel task ${task.task_id}` }, 'Cancel') : null;
    cancel?.addEventListener('click', () => void this.cancel(task.task_id, cancel));
    return h(
      'tr',
      { 'data-task-id': task.task_id },
      h('td', {}, thumbnail),
      h('td', {}, h('code', {}, task.task_id), h('br'), h('small', {}, task.task_type)),
      h(
        'td',
        { class: 'task-state' },
        statusLabel(task),
        isRunning(task) ? ` · ${task.progress_percent}%` : '',
        task.reason ? h('br') : null,
        task.reason ? h('small', {}, task.reason) : null,
      ),
      h('td', {}, cancel),
    );
  }

  private async cancel(taskId: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this.message.hidden = true;
    try {
      const result = await this.api.cancel(taskId);
      if (result === undefined) {
        this.showMessage('This server cannot cancel tasks (POST /v3/async/task-cancel answered 404).');
        button.disabled = false;
        return;
      }
    } catch (error) {
      // 409 TASK_ALREADY_FINISHED among others: say why, and show the task as it is now.
      this.showMessage(error);
    }
    await this.refresh();
  }

  private showMessage(error: unknown): void {
    fill(this.message, error instanceof WanApiError || error instanceof Error ? error.message : String(error));
    this.message.hidden = false;
  }
}
