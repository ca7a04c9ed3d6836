// One error class for the whole project: every failure a user or a peer can see carries a
// stable code, so clients branch on codes and tests assert on them.

export const ERROR_CODES = {
  // wire / frames (attacker-controlled input from sockets)
  E_BAD_JSON: 'a text frame is not valid JSON',
  E_BAD_MESSAGE: 'a control message does not match its schema',
  E_PROTOCOL_VERSION: 'the peer speaks another protocol version',
  E_NOT_HELLO: 'the first message on a socket must be hello',
  E_FRAME_TRUNCATED: 'a binary frame is shorter than its header says',
  E_FRAME_OVERSIZED: 'a frame is longer than its header says, or than its kind and the socket\'s state allow',
  E_FRAME_HEADER: 'a binary frame header is missing or invalid',
  // sites
  E_UNKNOWN_SITE: 'no site with this id is registered',
  E_SITE_REVOKED: 'the site was revoked by an admin',
  E_SITE_REKEYED: 'an admin replaced the site\'s public key while it was connected',
  E_BAD_SIGNATURE: 'a signature does not verify under the signer\'s registered key',
  E_IDENTITY_MISMATCH: 'a site signed, or spoke, as another registered site',
  E_BAD_NONCE: 'the handshake nonce was not issued to this connection',
  E_NONCE_REPLAYED: 'the handshake nonce was already used',
  E_NONCE_EXPIRED: 'the handshake nonce expired',
  E_COORDINATOR_KEY: 'the coordinator\'s signing key is not the one this site pinned',
  E_KEY_FILE: 'a key file is missing, unreadable, badly formed or too widely readable',
  E_KEY_EXISTS: 'a key file already exists and will not be overwritten',
  E_SITE_BUSY: 'the site is still busy with another training task and refuses this one',
  // updates
  E_WRONG_RUN: 'the update is for another run',
  E_STALE_ROUND: 'the update is for another round',
  E_NOT_SELECTED: 'the site was not selected for this round',
  E_DUPLICATE_UPDATE: 'the site already sent an update for this round',
  E_SHAPE_MISMATCH: 'tensor names or shapes differ from the global model',
  E_NON_FINITE: 'the update holds NaN or Infinity',
  E_BAD_EXAMPLES: 'the example count is not a positive integer',
  E_BASE_MODEL: 'the update was trained from another base model',
  E_HASH_MISMATCH: 'a declared hash does not match the bytes',
  E_DISCONNECTED: 'the site disconnected before answering',
  E_DEADLINE: 'the site did not answer before the deadline',
  // chunked updates (an update larger than one frame, streamed)
  E_CHUNK_UNKNOWN: 'a chunk names no stream the site has open: none was opened, or it is for another update, run or round',
  E_CHUNK_ORDER: 'a chunk arrived out of order or twice, or a stream began before the last one ended',
  E_CHUNK_HASH: "a chunk's bytes do not match the hash its signed stream header declared",
  E_CHUNK_COUNT: 'a stream carried more chunks, or a chunk more or fewer values, than its header declared',
  E_STREAM_DEADLINE: 'a chunked update stopped arriving and was refused on its deadline',
  E_STREAM_TRUNCATED: "the site's connection closed in the middle of a chunked update",
  // hierarchies (a regional coordinator's agent is a site of its parent)
  E_CHILD_HEAD: "an update's child head (its regional coordinator's signed ledger head) does not verify under the key it names, or names an empty chain",
  // site-side failures reported to the coordinator
  E_CSV_MISSING_COLUMN: 'a site CSV, or a CSV sent for prediction, lacks a required column',
  E_CSV_BAD_VALUE: 'the site CSV holds a value of the wrong type or range',
  E_CSV_TOO_FEW_ROWS: 'the site CSV has too few usable rows',
  E_CSV_TOO_WIDE: 'the site CSV has more columns than fedrx reads',
  E_GROUP_NO_MATCH: 'a feature group\'s pattern matches no column of the CSV',
  E_GROUP_OVERLAP: 'a CSV column is claimed by two feature groups, or by a group and a named feature',
  E_STATS_TOO_FEW_ROWS: 'a site reported statistics over fewer rows than the study allows',
  E_TRAINING_FAILED: 'local training failed',
  // API callers
  E_UNAUTHENTICATED: 'the request carries no API token, or an unknown or revoked one',
  E_FORBIDDEN: 'the API token\'s role may not call this route',
  E_SESSION_EXPIRED: 'the dashboard session has expired or was signed out: sign in again',
  E_CSRF: 'a write from a dashboard session lacks its CSRF token, or carries another one',
  // runs
  E_BAD_REQUEST: 'the request body or parameters are invalid',
  E_NOT_FOUND: 'no such resource',
  E_ROUND_FAILED: 'a round could not close with enough updates',
  E_RUN_FINISHED: 'the run has already ended (completed, failed or cancelled)',
  E_RUN_NOT_RESUMABLE: 'a run that a stopped coordinator left running cannot continue from its last committed round',
  E_NO_MODEL: 'no committed model to serve',
  E_MISSING_FEATURE: 'a feature needed by the model is missing',
  E_BAD_FEATURE: 'a feature value has the wrong type or level',
  E_STRATEGY_STATE: "a strategy's saved state does not fit its strategy or the run's model",
  // exact fits
  E_BAD_PENALTY: 'an L2 penalty or penalty grid is invalid, or does not fit the run\'s strategy',
  E_SINGULAR: 'a linear system has no unique solution (matrix not positive definite)',
  // calibrated prediction intervals (federated conformal prediction)
  E_BAD_SKETCH: "a site's calibration sketch has the wrong size, a negative or fractional count, or counts another number of rows than it claims",
  E_BAD_COVERAGE: 'a coverage level is not a number strictly between 0 and 1',
  E_MALFORMED_ROW: 'a row has another number of cells than its header or column list',
  // differential privacy
  E_DP_SETTINGS: 'differential-privacy settings are invalid: a noise multiplier or clip not positive and finite, or δ not below 1/n',
  E_CLIP_EXCEEDED: "an update's change from the global model is longer than the run's clip",
  E_BUDGET_EXCEEDED: "a run would take a site past the privacy budget an admin set for it",
  E_SITE_MAX_EPSILON: 'the site refuses a training task that would take it past its own --max-epsilon',
  // secure aggregation
  E_SECAGG_PARAMS: 'secure aggregation settings are impossible (threshold, neighbours, clip, quantisation) or combined with a strategy that needs each update',
  E_SECAGG_KEYS: 'a secure-aggregation key advertisement is malformed, unsigned, or differs from the one the site already sent',
  E_SECAGG_SHARE: 'an encrypted share does not open, is for another round or site, or comes from a site that is not a neighbour',
  E_SECAGG_MASKED: 'a masked upload has the wrong length, ring or round',
  E_SECAGG_REVEAL: 'a site refuses to reveal both the self-mask share and the key share of one site, or the unmask request is inconsistent',
  E_SECAGG_THRESHOLD: 'fewer sites than the threshold remain to finish a secure round: nothing is committed',
  // compressed updates
  E_COMPRESSION_SETTINGS: 'update compression settings are invalid (an unknown codec, a top-k fraction not strictly between 0 and 1) or combined with secure aggregation, differential privacy or an exact fit',
  E_COMPRESSED_UPDATE: "a compressed update does not fit the run: another codec than the run's, another length than the model, more entries than the run allows, or sparse indices out of range or not strictly increasing",
  // simulations
  E_BAD_PARTITION: 'a split of rows among sites is impossible: more sites than rows, a Dirichlet α not positive, or a partition column not in the data or not numeric where bins are needed',
  // relay runs (a regional coordinator driven step by step by its parent, docs/scale.md)
  E_RELAY_SETTINGS: 'a relay run was asked with a strategy or study it cannot relay: exact, fedadam, or a study with feature groups',
  E_RELAY_NOT_RELAY: 'a relay step was posted to a run that is not a relay run',
  // ledger
  E_LEDGER_BROKEN: 'the ledger chain does not verify',
  E_LEDGER_APPEND_ONLY: 'ledger rows cannot be changed or deleted',
  E_READ_ONLY: 'the coordinator was started read-only for investigation',
  E_REPLICA_DIVERGED: 'a replica and the coordinator disagree about the chain',
  E_NOT_PARTICIPANT: 'only a participant of a ledger entry may endorse or dispute it',
  E_ENDORSEMENT_MISMATCH: 'the endorsement names another entry hash than the ledger holds',
  E_NOT_ENDORSED: 'the model\'s ledger entry has not reached its endorsement quorum',
  E_ENTRY_DISPUTED: 'a site refuses a ledger entry the coordinator sent',
  E_DB_CORRUPT: 'the database file is truncated, corrupt or not a SQLite database',
  // transport security
  E_TLS_CONFIG: 'TLS settings are missing, unreadable or inconsistent',
  E_TLS_UNTRUSTED: "the coordinator's TLS certificate is not trusted",
  E_TLS_PIN: "the coordinator's certificate does not match the pinned fingerprint",
  // limits on what a client may hold or repeat
  E_RATE_LIMITED: 'too many attempts from this address or site; retry later',
  E_BUSY: 'the coordinator holds as many waiting connections as it allows; retry later',
  // generic
  E_INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Every code, in the order above. */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/** Whether `v`, e.g. a code received from a peer (attacker-controlled), is one of the codes above (own keys only: 'toString' is not one). */
export const isErrorCode = (v: unknown): v is ErrorCode => typeof v === 'string' && Object.hasOwn(ERROR_CODES, v);

/** A coded error as it travels in JSON: REST answers, per-row prediction errors. */
export interface CodedMessage {
  code: ErrorCode;
  message: string;
}

export class FedrxError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CODES[code]);
    this.name = 'FedrxError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isFedrxError(e: unknown, code?: ErrorCode): e is FedrxError {
  return e instanceof FedrxError && (code === undefined || e.code === code);
}
