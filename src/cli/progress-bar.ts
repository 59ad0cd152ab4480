import type { TaskInfo } from '../client/types.js';

/**
 * The progress of a task on stderr: on a terminal one line redrawn in place
 * (`[██████░░░░░░]  50%  PROCESSING  ETA 0:03`); elsewhere (a log, a pipe) a line when the status
 * changes or the percentage passes another 10.
 */
export class ProgressBar {
  private lastStatus = '';
  private lastStep = -1;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
    private readonly width = 24,
  ) {}

  update(task: TaskInfo): void {
    const line = formatProgress(task, this.width);
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      return;
    }
    const step = Math.floor(task.progress_percent / 10);
    if (task.status !== this.lastStatus || step !== this.lastStep) {
      this.stream.write(`${line}\n`);
      this.lastStatus = task.status;
      this.lastStep = step;
    }
  }

  /** Ends the redrawn line, so that what follows starts on its own line. */
  finish(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

export function formatProgress(task: TaskInfo, width = 24): string {
  const percent = Math.max(0, Math.min(100, Math.round(task.progress_percent)));
  const filled = Math.round((percent / 100) * width);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
  const status = shortStatus(task.status);
  const eta = task.status === 'TASK_STATUS_QUEUED' || task.status === 'TASK_STATUS_PROCESSING' ? `  ETA ${clock(task.eta)}` : '';
  return `${bar} ${String(percent).padStart(3)}%  ${status}${eta}`;
}

export function shortStatus(status: string): string {
  return status.replace(/^TASK_STATUS_/, '');
}

function clock(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, '0')}`;
}
