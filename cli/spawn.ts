// Starts `fedrx` sub-commands as real child processes and watches their output: used by the demo
// and the end-to-end tests, so both exercise exactly what a hospital would run.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const FEDRX_BIN = fileURLToPath(new URL('../bin/fedrx.mjs', import.meta.url));

export interface FedrxProcess {
  name: string;
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line (past or future) matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function spawnFedrx(name: string, args: string[], opts: { logFile?: string; echo?: boolean; env?: NodeJS.ProcessEnv } = {}): FedrxProcess {
  const child = spawn(process.execPath, [FEDRX_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const log: WriteStream | null = opts.logFile === undefined ? null : createWriteStream(opts.logFile, { flags: 'a' });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onLine = (line: string): void => {
    lines.push(line);
    log?.write(line + '\n');
    if (opts.echo) console.log(`[${name}] ${line}`);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = line.match(waiters[i]!.re);
      if (m !== null) {
        waiters[i]!.resolve(m);
        waiters.splice(i, 1);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      log?.end();
      resolve(code);
    }),
  );
  return {
    name,
    child,
    lines,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      for (const line of lines) {
        const m = line.match(re);
        if (m !== null) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code}) before printing ${re}; last lines:\n${lines.slice(-15).join('\n')}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export const LISTENING = /fedrx coordinator listening on (http\S+)/;
