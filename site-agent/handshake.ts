// The answer to the coordinator's challenge that opens every connection: a hello signed over its
// nonce and its ledger key, once that key is the one this site trusts (pinned on first contact, or
// given by the site's admin). A coordinator with another key gets no answer at all.

import { helloBody, sign, type KeyPair } from '../shared/signing.js';
import { PROTOCOL_VERSION, type Challenge, type Hello } from '../shared/wire.js';
import type { Refusal } from './refusal.js';
import type { Replica } from './replica.js';

export interface HandshakeDeps {
  siteId: string;
  keys: KeyPair;
  replica: Replica;
  /** tfjs backend in use, told to the coordinator. */
  backend: string;
  refusal: Refusal;
  log: (line: string) => void;
}

export function answerChallenge(deps: HandshakeDeps): (challenge: Challenge) => Promise<Hello | null> {
  const { siteId, keys, replica, backend, refusal, log } = deps;
  return async (challenge) => {
    const pinned = replica.coordinatorKey();
    if (pinned !== null && pinned !== challenge.coordinatorKey) {
      refusal.leave(`!!! coordinator key ${challenge.coordinatorKey} is not the pinned ${pinned} (${replica.dir}/replica.json): not answering, NOT reconnecting`);
      return null;
    }
    if (pinned === null) {
      await replica.pinCoordinator(challenge.coordinatorKey);
      log(`pinned coordinator key ${challenge.coordinatorKey} (first contact)`);
    }
    return {
      type: 'hello',
      v: PROTOCOL_VERSION,
      siteId,
      nonce: challenge.nonce,
      signature: sign('hello', helloBody(siteId, challenge.nonce, challenge.coordinatorKey), keys.secretKey),
      replica: replica.head(),
      backend,
    };
  };
}
