/**
 * What the playground keeps in the browser (localStorage, readable by any script of this origin,
 * which serves only the playground and the API): the API key, and the ids of the tasks submitted
 * from this browser, listed when the server has no task list.
 */
const keyItem = 'wan-playground.api-key';
const tasksItem = 'wan-playground.task-ids';
const keptTaskIds = 20;

export const savedKey = {
  get: (): string => localStorage.getItem(keyItem) ?? '',
  set: (key: string): void => (key === '' ? localStorage.removeItem(keyItem) : localStorage.setItem(keyItem, key)),
};

export const submittedTasks = {
  ids(): string[] {
    try {
      const ids: unknown = JSON.parse(localStorage.getItem(tasksItem) ?? '[]');
      return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
    } catch {
      return [];
    }
  },
  add(taskId: string): void {
    const ids = [taskId, ...this.ids().filter((id) => id !== taskId)].slice(0, keptTaskIds);
    localStorage.setItem(tasksItem, JSON.stringify(ids));
  },
};
