// A relay run's settings in POST /v1/runs (coordinator/http/run-config.ts): defaults, the config
// hash, and the strategies and studies it cannot relay (E_RELAY_SETTINGS).

import { describe, expect, it } from 'vitest';
import { buildRunConfig } from '../../../coordinator/http/run-config.js';
import { hashConfig } from '../../../shared/ledger.js';
import type { Study } from '../../../shared/study.js';
import { thrownCode } from '../../helpers/error-code.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

describe('relay settings', () => {
  it('keeps the parent run and an idle time of 3600 s unless given, in the config hash', () => {
    const relay = buildRunConfig({ study: TINY_STUDY, relay: { parentRunId: 'national-1' } });
    expect(relay.relay).toEqual({ parentRunId: 'national-1', idleSec: 3600 });
    expect(buildRunConfig({ study: TINY_STUDY, relay: { parentRunId: 'national-1', idleSec: 60 } }).relay).toEqual({ parentRunId: 'national-1', idleSec: 60 });
    const plain = buildRunConfig({ study: TINY_STUDY });
    expect(plain.relay).toBeUndefined();
    expect(hashConfig(relay)).not.toBe(hashConfig(plain));
    expect(hashConfig(relay)).not.toBe(hashConfig(buildRunConfig({ study: TINY_STUDY, relay: { parentRunId: 'national-2' } })));
  });

  it('refuses exact fits, FedAdam and studies with feature groups, naming why', () => {
    const grouped: Study = { ...TINY_STUDY, groups: [{ kind: 'numeric', match: '^g_', missing: 'mean' }] };
    for (const body of [{ strategy: 'exact' as const }, { strategy: 'fedadam' as const }, { study: grouped }]) {
      expect(thrownCode(() => buildRunConfig({ study: TINY_STUDY, ...body, relay: { parentRunId: 'p' } })), JSON.stringify(body)).toBe('E_RELAY_SETTINGS');
    }
    expect(() => buildRunConfig({ study: grouped, relay: { parentRunId: 'p' } })).toThrow(/feature groups: merging statistics across regions would then need the input-list step/);
    expect(() => buildRunConfig({ study: TINY_STUDY, strategy: 'fedadam', relay: { parentRunId: 'p' } })).toThrow(/aggregate of the parent's model/);
    // Other robust and proximal strategies relay.
    for (const strategy of ['fedavg', 'fedprox', 'median', 'trimmed-mean'] as const) expect(buildRunConfig({ study: TINY_STUDY, strategy, relay: { parentRunId: 'p' } }).strategy).toBe(strategy);
  });
});
