import { execFile } from 'node:child_process';
import { FEDRX_BIN } from '../../cli/spawn.js';

/**
 * A real `fedrx` process, run to its end without blocking this one, so that a coordinator in the
 * test's own process can answer it (spawnSync would hold the event loop).
 */
export function runFedrx(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FEDRX_BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}
