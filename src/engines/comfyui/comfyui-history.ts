import { errors, type ApiError } from '../../spec/api-error.js';

/**
 * What ComfyUI tells of a finished prompt. `GET /history/{prompt_id}` answers
 * `{"<prompt_id>": {"outputs": {"<node id>": {"images": [{"filename", "subfolder", "type"}], …}},
 * "status": {"status_str": "success" | "error", "completed": bool, "messages": [[event, data], …]}}}`
 * (`{}` while it is queued or running); an error's details are in the `execution_error`
 * message, the same data the websocket sent.
 */

export interface OutputFile {
  filename: string;
  subfolder: string;
  type: string;
}

/** The details of a failed node, as `execution_error` gives them. */
export interface NodeFailure {
  node_id?: unknown;
  node_type?: unknown;
  exception_type?: unknown;
  exception_message?: unknown;
}

export type HistoryReport =
  | { phase: 'absent' }
  | { phase: 'succeeded'; outputs: OutputFile[] }
  | { phase: 'failed'; failure: NodeFailure }
  | { phase: 'interrupted' };

export function readHistory(body: unknown, promptId: string): HistoryReport {
  const entry = (typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[promptId] : undefined) as
    | { outputs?: unknown; status?: { status_str?: unknown; messages?: unknown } }
    | undefined;
  if (entry === undefined || entry === null) return { phase: 'absent' };
  const messages = Array.isArray(entry.status?.messages) ? (entry.status.messages as unknown[]) : [];
  const message = (event: string) => messages.find((item): item is [string, NodeFailure] => Array.isArray(item) && item[0] === event)?.[1];
  if (message('execution_interrupted') !== undefined) return { phase: 'interrupted' };
  if (entry.status?.status_str === 'error') return { phase: 'failed', failure: message('execution_error') ?? {} };
  return { phase: 'succeeded', outputs: videoOutputs(entry.outputs) };
}

/**
 * The MP4 files among a prompt's outputs. SaveVideo lists its file under `images` (with
 * `animated`); other video nodes use `gifs` or `videos`: every list is searched.
 */
export function videoOutputs(outputs: unknown): OutputFile[] {
  const files: OutputFile[] = [];
  if (typeof outputs !== 'object' || outputs === null) return files;
  for (const nodeOutput of Object.values(outputs)) {
    if (typeof nodeOutput !== 'object' || nodeOutput === null) continue;
    for (const list of Object.values(nodeOutput as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        const { filename, subfolder, type } = (item ?? {}) as Record<string, unknown>;
        if (typeof filename === 'string' && /\.mp4$/i.test(filename) && type === 'output') {
          files.push({ filename, subfolder: typeof subfolder === 'string' ? subfolder : '', type });
        }
      }
    }
  }
  return files;
}

/** A failed node as the task's error: which node, of what type, and ComfyUI's exception. */
export function nodeFailureError(engine: string, promptId: string, failure: NodeFailure): ApiError {
  const node = typeof failure.node_id === 'string' || typeof failure.node_id === 'number' ? String(failure.node_id) : undefined;
  const nodeType = typeof failure.node_type === 'string' ? failure.node_type : undefined;
  const exception = [failure.exception_type, failure.exception_message].filter((part) => typeof part === 'string' && part !== '').join(': ');
  const where = node === undefined ? '' : ` at node ${node}${nodeType ? ` (${nodeType})` : ''}`;
  return errors.taskFailed(`the ComfyUI workflow of ${engine} failed${where}${exception === '' ? '' : `: ${exception.trim()}`}`, {
    engine,
    upstream_task_id: promptId,
    ...(node === undefined ? {} : { node_id: node }),
    ...(nodeType === undefined ? {} : { node_type: nodeType }),
  });
}
