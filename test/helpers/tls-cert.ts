// Certificates for TLS tests, made the way an admin makes them: `fedrx tls cert` as a child process.

import { fedrxCommand } from '../../cli/local-federation.js';
import type { FederationTls } from '../../cli/local-federation.js';

/** Runs `fedrx tls cert --out DIR [--host H]...` and reads the paths and fingerprint it prints. */
export async function makeTestCert(outDir: string, hosts: string[] = []): Promise<FederationTls> {
  const r = await fedrxCommand(['tls', 'cert', '--out', outDir, ...hosts.flatMap((h) => ['--host', h])]);
  const field = (name: string): string => {
    const line = r.lines.find((l) => l.startsWith(`${name}\t`));
    if (r.code !== 0 || line === undefined) throw new Error(`fedrx tls cert failed (${r.code}):\n${r.lines.join('\n')}`);
    return line.slice(name.length + 1);
  };
  return { certFile: field('cert'), keyFile: field('key'), fingerprint: field('sha256') };
}
