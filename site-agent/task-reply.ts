// How the agent says it could not do a task: a task-error addressed by run and round, with a coded
// reason cut to the wire's limit. Messages name columns, counts and rounds, never a cell value.

import { FedrxError, isFedrxError, type ErrorCode } from '../shared/errors.js';
import { decodeFrame } from '../shared/tensor-codec.js';
import { expectSchema, messageText, PROTOCOL_VERSION, TaskErrorSchema, type TaskError } from '../shared/wire.js';

export type TaskRef = { runId: string; round: number };

/** The wire's id pattern (site and run ids). */
export const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_ERROR_MESSAGE = 2000;

export function taskErrorText(ref: TaskRef, code: ErrorCode, message: string): string {
  const msg: TaskError = { type: 'task-error', v: PROTOCOL_VERSION, runId: ref.runId, round: ref.round, code, message: message.slice(0, MAX_ERROR_MESSAGE) };
  return messageText(expectSchema(TaskErrorSchema, msg, 'E_INTERNAL', 'outgoing task-error'));
}

export function asFedrxError(e: unknown, fallback: ErrorCode): FedrxError {
  return isFedrxError(e) ? e : new FedrxError(fallback, (e as Error)?.message ?? String(e));
}

/** runId and round of a frame whose header failed the task schema, so the error can be addressed. */
export function taskRef(buf: Buffer): TaskRef | null {
  try {
    const { header } = decodeFrame(buf);
    const { runId, round } = header;
    if (typeof runId === 'string' && ID.test(runId) && Number.isSafeInteger(round) && (round as number) >= 0) {
      return { runId, round: round as number };
    }
  } catch {
    // not even a frame: nothing to address a reply to
  }
  return null;
}
