// The agent's task queue: one task at a time in arrival order, and what is waiting or running.

import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../site-agent/task-queue.js';

describe('TaskQueue', () => {
  it('runs tasks one after another, knows which wait, and survives a task that throws', async () => {
    const lines: string[] = [];
    const q = new TaskQueue((l) => lines.push(l));
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    q.push(async () => {
      order.push('train start');
      await gate;
      order.push('train end');
    }, { key: 't1', training: true, label: 'run r round 1' });
    q.push(async () => {
      throw new Error('boom');
    });
    q.push(async () => void order.push('evaluate'), { key: 'e1', training: false, label: 'run r round 1' });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['train start']);
    expect(q.has('t1') && q.has('e1')).toBe(true);
    expect(q.training()).toEqual({ key: 't1', training: true, label: 'run r round 1' });
    release();
    await q.idle();
    expect(order).toEqual(['train start', 'train end', 'evaluate']);
    expect(lines).toEqual(['task crashed: boom']);
    expect(q.has('t1') || q.has('e1')).toBe(false);
    expect(q.training()).toBeNull();
  });
});
