import { describe, expect, it } from 'vitest';
import { buildRunConfig } from '../../../coordinator/http/run-config.js';
import { sitesNeeded } from '../../../coordinator/rounds/engine.js';

describe('sitesNeeded', () => {
  it('is minSites, and for the training rounds of a secure run at least its threshold (3 when unset)', () => {
    expect(sitesNeeded(buildRunConfig({ minSites: 4 }), 1)).toBe(4);
    const secure = buildRunConfig({ minSites: 2, secureAggregation: { threshold: 6 } });
    expect(sitesNeeded(secure, 0)).toBe(2); // statistics are not aggregated securely
    expect(sitesNeeded(secure, 1)).toBe(6);
    expect(sitesNeeded(buildRunConfig({ minSites: 2, secureAggregation: true }), 3)).toBe(3);
    expect(sitesNeeded(buildRunConfig({ minSites: 8, secureAggregation: { threshold: 6 } }), 1)).toBe(8);
  });
});
