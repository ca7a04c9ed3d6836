// Resident memory of a process, from /proc (Linux): what `fedrx simulate` prints for the
// coordinator (a child process) and for itself. null where /proc is not available.

import { readFileSync } from 'node:fs';

/** Current and peak resident set size in bytes (VmRSS, VmHWM). */
export function residentBytes(pid: number | 'self'): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) * 1024;
    const rss = kb('VmRSS');
    return Number.isFinite(rss) ? { rss, peak: kb('VmHWM') } : null;
  } catch {
    return null;
  }
}

export const mib = (bytes: number | undefined | null): string => (bytes === undefined || bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);
