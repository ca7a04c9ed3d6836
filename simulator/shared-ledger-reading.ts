// How the virtual sites of one thread share the reading of the ledger. Every site receives the
// same ledger-entries message byte for byte; parsing, schema-checking and hashing an entry that
// names a thousand participants costs tens of milliseconds, and five hundred sites doing it in
// turn would keep the thread from answering heartbeats for half a minute. So one parse per
// distinct message text, one check per entry and position, one copy of each entry held; each
// site still appends to, links and persists its own replica.

import type { LedgerEntry } from '../shared/ledger.js';
import { parseCoordinatorMessage, type CoordinatorMessage } from '../shared/wire.js';
import type { EntryPool } from '../site-agent/replica.js';

/** Distinct ledger messages remembered: a broadcast reaches every site within moments. */
const RECENT_MESSAGES = 8;

export function sharedMessageParser(): (text: string) => CoordinatorMessage {
  const recent = new Map<string, CoordinatorMessage>();
  return (text) => {
    // Only ledger entries are shared: other messages are small, or meant for one site.
    if (!text.startsWith('{"type":"ledger-entries"')) return parseCoordinatorMessage(text);
    let msg = recent.get(text);
    if (msg === undefined) {
      msg = parseCoordinatorMessage(text);
      recent.set(text, msg);
      if (recent.size > RECENT_MESSAGES) recent.delete(recent.keys().next().value!);
    }
    return msg;
  };
}

export function sharedEntryPool(): EntryPool {
  const held = new Map<string, LedgerEntry>();
  const answers = new WeakMap<object, Map<string, unknown>>();
  return {
    intern(e) {
      const known = held.get(e.entryHash);
      if (known !== undefined) return known;
      held.set(e.entryHash, e);
      return e;
    },
    once<T>(of: object, key: string, compute: () => T): T {
      let byKey = answers.get(of);
      if (byKey?.has(key)) return byKey.get(key) as T;
      const value = compute(); // a throw is not remembered: each site gets its own error
      if (byKey === undefined) answers.set(of, (byKey = new Map()));
      byKey.set(key, value);
      return value;
    },
  };
}
