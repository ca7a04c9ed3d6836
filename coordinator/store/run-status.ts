// A run's life: queued → running → completed | failed | cancelled. A queued run may be cancelled
// at once; a running one is asked to stop (cancel_requested_at) and the runner ends it cancelled.

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run in one of these statuses will not change again. */
export const isFinished = (s: RunStatus): boolean => s === 'completed' || s === 'failed' || s === 'cancelled';
