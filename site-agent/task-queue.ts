// The agent's tasks run one at a time, in arrival order: training is CPU-bound and rounds are
// sequential. The queue knows which tasks are waiting or running, so a task already on its way is
// not queued twice, and it can tell which training task holds the site.

export interface QueuedTask {
  /** Identifies the task: the same request again has the same key. */
  key: string;
  /** A training task (train, exact fit): the site takes one at a time. */
  training: boolean;
  /** For messages: e.g. "run run-1 round 3". */
  label: string;
}

export class TaskQueue {
  private tail: Promise<void> = Promise.resolve();
  private readonly pending = new Map<string, QueuedTask>();

  constructor(private readonly log: (line: string) => void) {}

  /** Whether this task is waiting or running. */
  has(key: string): boolean {
    return this.pending.has(key);
  }

  /** The training task waiting or running, if any. */
  training(): QueuedTask | null {
    for (const t of this.pending.values()) if (t.training) return t;
    return null;
  }

  push(run: () => Promise<void>, task?: QueuedTask): void {
    if (task !== undefined) this.pending.set(task.key, task);
    this.tail = this.tail
      .then(run)
      .catch((e: unknown) => this.log(`task crashed: ${(e as Error)?.message ?? String(e)}`))
      .finally(() => {
        if (task !== undefined) this.pending.delete(task.key);
      });
  }

  /** Resolves once every task pushed so far has ended. */
  idle(): Promise<void> {
    return this.tail;
  }
}
