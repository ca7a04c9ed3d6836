// The relay inbox: steps wait in order for their run's loop, which gives up after its idle time
// or when told to stop; a closed run's waiting and later steps are refused with its error.

import { describe, expect, it } from 'vitest';
import { RelayInbox } from '../../../coordinator/rounds/relay-inbox.js';
import { FedrxError } from '../../../shared/errors.js';

describe('relay inbox', () => {
  it('hands the loop its steps in order, one run apart from another, and settles each with its result', async () => {
    const inbox = new RelayInbox();
    const first = inbox.post('run-a', { kind: 'statistics' });
    void inbox.post('run-a', { kind: 'end' });
    void inbox.post('run-b', { kind: 'end' });
    const s = (await inbox.next('run-a', 1000, () => false))!;
    expect(s.step.kind).toBe('statistics');
    const stats = { stats: { rows: 4, numeric: {}, levels: {}, target: { count: 4, sum: 8, sumSq: 20 } }, sites: 2, head: { length: 1, headHash: 'a'.repeat(64), recordedAt: 'now', coordinatorKey: 'b'.repeat(64), signature: 'c'.repeat(128) } };
    s.resolve(stats);
    expect(await first).toBe(stats);
    expect((await inbox.next('run-a', 1000, () => false))!.step.kind).toBe('end');
    expect((await inbox.next('run-b', 1000, () => false))!.step.kind).toBe('end');
  });

  it('wakes a waiting loop as soon as a step is posted', async () => {
    const inbox = new RelayInbox();
    const waiting = inbox.next('run-a', 60_000, () => false);
    setTimeout(() => void inbox.post('run-a', { kind: 'end' }), 20);
    expect((await waiting)!.step.kind).toBe('end');
  });

  it('gives up after the idle time, or when told to stop', async () => {
    const inbox = new RelayInbox();
    expect(await inbox.next('run-a', 50, () => false)).toBeNull();
    let stop = false;
    setTimeout(() => (stop = true), 30);
    expect(await inbox.next('run-a', 60_000, () => stop)).toBeNull();
  });

  it("refuses a closed run's waiting and later steps with the error it ended on, until it is reopened", async () => {
    const inbox = new RelayInbox();
    const waiting = inbox.post('run-a', { kind: 'statistics' });
    const error = new FedrxError('E_RUN_FINISHED', 'run run-a has ended');
    inbox.close('run-a', error);
    await expect(waiting).rejects.toBe(error);
    await expect(inbox.post('run-a', { kind: 'end' })).rejects.toBe(error);
    inbox.reopen('run-a');
    void inbox.post('run-a', { kind: 'end' });
    expect((await inbox.next('run-a', 1000, () => false))!.step.kind).toBe('end');
  });
});
