import { describe, expect, it } from 'vitest';
import { phaseFailure } from '../../../coordinator/rounds/round-failure.js';
import type { SiteOutcome } from '../../../coordinator/store/store.js';

const ok = (siteId: string): SiteOutcome => ({ siteId, status: 'accepted', numExamples: 10 });
const gone = (siteId: string): SiteOutcome => ({ siteId, status: 'failed', code: 'E_DISCONNECTED', reason: 'site disconnected during the round: no answer to the heartbeat within 15 s' });
const silent = (siteId: string): SiteOutcome => ({ siteId, status: 'missing', code: 'E_DEADLINE', reason: 'no update before the deadline' });

describe('phaseFailure', () => {
  it('every site disconnected: says so and names them, without blaming the deadline', () => {
    expect(phaseFailure('updates', 0, 4, ['site-1', 'site-2', 'site-3', 'site-4'].map(gone), 150)).toBe(
      '0 of the 4 updates needed: 4 sites disconnected (site-1, site-2, site-3, site-4)',
    );
  });

  it('sites that refused or failed are named with their codes', () => {
    const outcomes: SiteOutcome[] = [
      ok('a'),
      { siteId: 'b', status: 'failed', code: 'E_CSV_MISSING_COLUMN' },
      { siteId: 'c', status: 'rejected', code: 'E_NON_FINITE' },
    ];
    expect(phaseFailure('updates', 1, 3, outcomes, 60)).toBe('1 of the 3 updates needed: 2 refused or failed (b: E_CSV_MISSING_COLUMN, c: E_NON_FINITE)');
  });

  it('the deadline is named only when sites were still silent, with N of M in', () => {
    expect(phaseFailure('updates', 1, 3, [ok('a'), silent('b'), silent('c')], 1)).toBe(
      '1 of the 3 updates needed: the 1 s deadline passed with 1 of 3 updates in (no answer from b, c)',
    );
  });

  it('all three at once, one site each', () => {
    const outcomes = [ok('a'), gone('b'), { siteId: 'c', status: 'failed', code: 'E_TRAINING_FAILED' } as SiteOutcome, silent('d')];
    expect(phaseFailure('statistics reports', 1, 3, outcomes, 30)).toBe(
      '1 of the 3 statistics reports needed: 1 site disconnected (b); 1 refused or failed (c: E_TRAINING_FAILED); the 30 s deadline passed with 1 of 4 statistics reports in (no answer from d)',
    );
  });

  it('no site selected', () => {
    expect(phaseFailure('updates', 0, 2, [], 60)).toBe('0 of the 2 updates needed: no site was selected');
  });
});
