import { describe, expect, it } from 'vitest';
import { initialBestRound, observeRound, type BestRoundState } from '../../../coordinator/rounds/best-round.js';

/** Feeds losses for rounds 1, 2, … and returns the state after each and the round it stopped at. */
function play(losses: (number | undefined)[], patience: number): { states: BestRoundState[]; stoppedAt: number | null; why: string | null } {
  let state = initialBestRound();
  const states: BestRoundState[] = [];
  for (const [i, loss] of losses.entries()) {
    const v = observeRound(state, i + 1, loss, patience);
    state = v.state;
    states.push(state);
    if (v.stop !== null) return { states, stoppedAt: i + 1, why: v.stop };
  }
  return { states, stoppedAt: null, why: null };
}

describe('observeRound', () => {
  it('keeps the round of the lowest validation loss, not the last', () => {
    const { states, stoppedAt } = play([0.9, 0.5, 0.6, 0.4, 0.45], 0);
    expect(states.map((s) => s.bestRound)).toEqual([1, 2, 2, 4, 4]);
    expect(states.map((s) => s.sinceBest)).toEqual([0, 0, 1, 0, 1]);
    expect(states.at(-1)).toEqual({ bestRound: 4, bestLoss: 0.4, sinceBest: 1 });
    expect(stoppedAt).toBeNull(); // patience 0 never stops
  });

  it('stops once `patience` rounds in a row have not beaten the best, and says why', () => {
    // Best at round 2 (0.5); rounds 3 and 4 rise: patience 2 stops after round 4.
    const { states, stoppedAt, why } = play([0.9, 0.5, 0.55, 0.7, 0.3], 2);
    expect(stoppedAt).toBe(4);
    expect(states.at(-1)).toEqual({ bestRound: 2, bestLoss: 0.5, sinceBest: 2 });
    expect(why).toBe('validation loss has not improved for 2 rounds (best round 2, validation loss 0.5000)');
  });

  it('an improvement resets the count; a tie is not an improvement', () => {
    const { stoppedAt, states } = play([1, 0.8, 0.8, 0.7, 0.75, 0.9, 0.95], 3);
    expect(states.map((s) => s.bestRound)).toEqual([1, 2, 2, 4, 4, 4, 4]);
    expect(stoppedAt).toBe(7);
    expect(play([1, 0.5, 0.6], 1)).toMatchObject({ stoppedAt: 3, why: expect.stringContaining('for 1 round (best round 2') });
  });

  it('without validation figures keeps the last round and never stops', () => {
    const { states, stoppedAt } = play([undefined, undefined, undefined], 1);
    expect(states.map((s) => s.bestRound)).toEqual([1, 2, 3]);
    expect(states.at(-1)).toEqual({ bestRound: 3, bestLoss: null, sinceBest: 0 });
    expect(stoppedAt).toBeNull();
  });

  it('a round without a validation figure after one with it is neither chosen nor counted', () => {
    const { states, stoppedAt } = play([0.5, undefined, 0.6], 2);
    expect(states.map((s) => [s.bestRound, s.sinceBest])).toEqual([[1, 0], [1, 0], [1, 1]]);
    expect(stoppedAt).toBeNull();
  });

  it('its state is a plain object that survives JSON', () => {
    const { states } = play([0.9, 0.5, 0.6], 5);
    const saved = JSON.parse(JSON.stringify(states.at(-1))) as BestRoundState;
    expect(observeRound(saved, 4, 0.7, 2)).toEqual(observeRound(states.at(-1)!, 4, 0.7, 2));
    expect(observeRound(saved, 4, 0.7, 2).stop).not.toBeNull();
  });
});
