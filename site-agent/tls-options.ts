// The agent's --tls-ca and --tls-pin, checked at start (before the model backend loads), so a
// typo in a fingerprint or a path fails at once rather than at the first connection.

import { FedrxError } from '../shared/errors.js';
import { normalizeFingerprint, readCaFile } from '../shared/tls.js';
import type { ConnectionTls } from './connection.js';

export function agentTls(coordinatorUrl: string, o: { caFile?: string | undefined; pin?: string | undefined }): ConnectionTls | undefined {
  if (o.caFile === undefined && o.pin === undefined) return undefined;
  if (!/^(https|wss):/i.test(coordinatorUrl)) {
    throw new FedrxError('E_TLS_CONFIG', `--tls-ca and --tls-pin need an https:// coordinator URL, got ${coordinatorUrl}`);
  }
  return {
    ...(o.caFile === undefined ? {} : { ca: readCaFile(o.caFile) }),
    ...(o.pin === undefined ? {} : { pinSha256: normalizeFingerprint(o.pin) }),
  };
}
