// A regional coordinator's relay steps through its REST client: what a region's compute
// (regional-compute.ts) drives. Answers are checked against their schemas where they arrive.

import type { CoordinatorClient } from '../cli/client/client.js';
import { FedrxError } from '../shared/errors.js';
import { RelayEvaluationSchema, RelayStatisticsSchema } from '../shared/relay-wire.js';
import { expectSchema } from '../shared/wire.js';
import type { RelaySteps } from './regional-compute.js';

export function relayStepsOf(client: CoordinatorClient): RelaySteps {
  return {
    createRun: (body) => client.startRun(body),
    status: async (runId) => (await client.run(runId)).status,
    // The regional coordinator's answers are checked here, as any message from a peer is.
    statistics: async (runId) => expectSchema(RelayStatisticsSchema, await client.relayStatistics(runId), 'E_BAD_MESSAGE', 'relay statistics'),
    train: (runId, frame) => client.relayTrain(runId, frame), // a frame: decodeRelayUpdate checks it
    evaluate: async (runId, frame) => expectSchema(RelayEvaluationSchema, await client.relayEvaluate(runId, frame), 'E_BAD_MESSAGE', 'relay evaluation'),
    end: async (runId) => void (await client.relayEnd(runId)),
    async endorsement(index) {
      const { entries, disputes } = await client.endorsements(index, 1);
      const e = entries[0];
      if (e === undefined || e.index !== index) throw new FedrxError('E_LEDGER_BROKEN', `the regional coordinator has no ledger entry ${index}`);
      return { entryHash: e.entryHash, endorsed: e.endorsed, endorsedBy: e.endorsedBy.length, required: e.required, disputed: disputes.some((d) => d.entryIndex === index) };
    },
  };
}
