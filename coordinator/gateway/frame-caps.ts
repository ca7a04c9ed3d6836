// How large an incoming WebSocket frame may be, by the state of its socket and the kind of frame.
// Pure sizes: the gateway applies them to each frame's declared length (frame-guard.ts), and the
// round runner, which knows the open run's study and model, tells the gateway the run's limits.

import { newtonAnswerLength } from '../../shared/exact/logistic.js';
import { isLevelFeature, isRegression, MAX_INPUT_FEATURES, type ClassificationTarget, type Study } from '../../shared/study.js';
import type { Weights } from '../../shared/tensors.js';

export type FrameKind = 'text' | 'binary';

/** What a site may send while a run is open: set by the round runner, cleared when the run ends. */
export interface RunFrameLimits {
  /** An update frame of this run's model: its weights plus a header. Unset until the model is made. */
  updateFrameBytes?: number;
  /** A statistics report of this run's study. */
  statsReportBytes: number;
}

export interface FrameCapOptions {
  /** Any frame before the hello has proved who is speaking (a hello is under 1 KB). */
  helloBytes: number;
  /** Text control messages (eval results, endorsements, disputes, task errors), and binary frames while no run is open. */
  controlBytes: number;
  /** Never more than this, whatever the run expects (the operator's `maxFrameBytes`). */
  maxBytes: number;
}

export const DEFAULT_HELLO_FRAME_BYTES = 4 * 1024;
export const DEFAULT_CONTROL_FRAME_BYTES = 64 * 1024;

/** Room for an update frame's magic, header length, JSON header (run, round, hashes, signature, tensor table) and padding. */
export const UPDATE_HEADER_ALLOWANCE = 64 * 1024;

/** The cap on a frame of `kind` from a socket that has (`admitted`) or has not yet proved its site. */
export function frameCap(kind: FrameKind, admitted: boolean, run: RunFrameLimits | null, o: FrameCapOptions): number {
  if (!admitted) return Math.min(o.helloBytes, o.maxBytes);
  const cap = kind === 'binary' ? (run?.updateFrameBytes ?? o.controlBytes) : Math.max(o.controlBytes, run?.statsReportBytes ?? 0);
  return Math.min(cap, o.maxBytes);
}

/** The largest update frame an honest site sends for a model of these weights. */
export function updateFrameBytes(weights: Weights): number {
  return weights.reduce((n, t) => n + t.data.byteLength, 0) + UPDATE_HEADER_ALLOWANCE;
}

// The longest JSON a count (an integer below 2^53) and a finite double take.
const MAX_COUNT_CHARS = 16;
const MAX_NUMBER_CHARS = 24;
/** `{"count":…,"sum":…,"sumSq":…}`. */
const MOMENTS_CHARS = 26 + MAX_COUNT_CHARS + 2 * MAX_NUMBER_CHARS;
/** type, v, runId, signature, rows and the keys around them. */
const STATS_ENVELOPE_CHARS = 1024;
/** A column a feature group matched is reported under its CSV name: room for names this long on average. */
const GROUP_COLUMN_NAME_CHARS = 128;

/** The JSON of one feature's statistics after its quoted name: moments, or one count per level. */
const statsValueChars = (kind: string, levels: number): number => (kind === 'numeric' ? MOMENTS_CHARS : 2 + levels * (MAX_COUNT_CHARS + 1));

/**
 * The longest statistics report (shared/feature-stats.ts, as JSON) a site can honestly send for
 * `study`: it grows with the number of features and levels, so a wide study gets a wide cap.
 * Feature groups match columns only the sites know: they get room for the most inputs a run may
 * have (MAX_INPUT_FEATURES), as wide as the widest group's entry. Twice the bound, for slack.
 */
export function statsReportBytes(study: Study): number {
  let chars = STATS_ENVELOPE_CHARS;
  for (const f of study.features) {
    chars += JSON.stringify(f.name).length + 2 + statsValueChars(f.kind, f.kind === 'numeric' ? 0 : isLevelFeature(f) ? f.levels.length : 2);
  }
  const groupEntry = Math.max(0, ...(study.groups ?? []).map((g) => GROUP_COLUMN_NAME_CHARS + 4 + statsValueChars(g.kind, g.kind === 'categorical' ? g.levels.length : 2)));
  chars += MAX_INPUT_FEATURES * groupEntry;
  chars += statsValueChars(isRegression(study) ? 'numeric' : 'target', isRegression(study) ? 0 : (study.target as ClassificationTarget).classes.length);
  return 2 * chars;
}

/**
 * The largest exact-fit frame a site can honestly send in a run of this width, whose sites hold
 * `runRows` training rows in all (factored statistics over `folds` folds, a Newton answer, or a CG
 * product), with room for its header: the gateway's cap on binary frames during the fit.
 */
export function maxExactFrameBytes(width: number, runRows: number, folds: number): number {
  const stats = Math.min(runRows, folds * (width + 2)) * (width + 2) * 8;
  return Math.max(stats, newtonAnswerLength(width, runRows) * 8, (width + 2) * 8) + UPDATE_HEADER_ALLOWANCE;
}
