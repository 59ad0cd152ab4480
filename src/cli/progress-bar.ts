import { SingleBar } from 'cli-progress';
import type { TaskInfo } from '../client/types.js';

/**
 * The progress of a task on stderr: on a terminal a bar redrawn in place by cli-progress
 * (`[██████░░░░░░]  50%  PROCESSING  ETA 0:03`, the ETA being the server's); elsewhere (a log,
 * a pipe) a line when the status changes or the percentage passes another 10.
 */
export class ProgressBar {
  private lastStatus = '';
  private lastStep = -1;
  private bar: SingleBar | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
    private readonly width = 24,
  ) {}

  update(task: TaskInfo): void {
    if (this.tty) {
      this.drawOnTerminal(task);
      return;
    }
    const line = formatProgress(task, this.width);
    const step = Math.floor(task.progress_percent / 10);
    if (task.status !== this.lastStatus || step !== this.lastStep) {
      this.stream.write(`${line}\n`);
      this.lastStatus = task.status;
      this.lastStep = step;
    }
  }

  /** Ends the redrawn line, so that what follows starts on its own line. */
  finish(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private drawOnTerminal(task: TaskInfo): void {
    const payload = { status: shortStatus(task.status), server_eta: etaText(task) };
    if (!this.bar) {
      this.bar = new SingleBar({
        stream: this.stream,
        format: '[{bar}] {percentage}%  {status}{server_eta}',
        barsize: this.width,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
      });
      this.bar.start(100, 0, payload);
    }
    this.bar.update(percentOf(task), payload);
  }
}

/** The line written where the output is not a terminal. */
export function formatProgress(task: TaskInfo, width = 24): string {
  const percent = percentOf(task);
  const filled = Math.round((percent / 100) * width);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
  return `${bar} ${String(percent).padStart(3)}%  ${shortStatus(task.status)}${etaText(task)}`;
}

function percentOf(task: TaskInfo): number {
  return Math.max(0, Math.min(100, Math.round(task.progress_percent)));
}

function etaText(task: TaskInfo): string {
  return task.status === 'TASK_STATUS_QUEUED' || task.status === 'TASK_STATUS_PROCESSING' ? `  ETA ${clock(task.eta)}` : '';
}

export function shortStatus(status: string): string {
  return status.replace(/^TASK_STATUS_/, '');
}

function clock(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, '0')}`;
}
