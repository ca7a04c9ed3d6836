// `fedrx region`: a regional agent, the link between two levels of a hierarchical federation
// (docs/scale.md). It is a site of the parent coordinator and answers its tasks with the region's
// own coordinator and hospitals, through that coordinator's relay runs.

import type { Command } from 'commander';
import { positive, positiveSeconds } from './number-flags.js';
import { TOKEN_HELP } from './run-start-command.js';

type Wrap = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

interface RegionFlags {
  parent: string;
  parentKey?: string;
  site: string;
  key: string;
  coordinator: string;
  token?: string;
  tlsCa?: string;
  tlsPin?: string;
  minSites: string;
  roundTimeout?: string;
  quorum?: string;
  replicaDir: string;
}

export function registerRegionCommand(program: Command, wrap: Wrap): void {
  program
    .command('region')
    .description("run a regional agent: a site of the parent coordinator that answers the parent's tasks with this region's own coordinator and sites (its relay runs); national entries then commit to the regional chain")
    .requiredOption('--parent <url>', 'the parent (national) coordinator URL')
    .option('--parent-key <file|hex>', "the parent coordinator's ledger public key (default: pinned on first contact)")
    .requiredOption('--site <id>', "this region's site id at the parent")
    .requiredOption('--key <dir>', "folder with this region's key pair at the parent, made by `fedrx site init`")
    .requiredOption('--coordinator <url>', "this region's own coordinator URL")
    .option('--token <t>', `a data scientist's token at the region's coordinator: ${TOKEN_HELP}`)
    .option('--tls-ca <file>', 'extra trusted CA certificate(s), PEM, for an https coordinator of either level')
    .option('--tls-pin <sha256>', "refuse a parent certificate without this SHA-256 fingerprint")
    .option('--min-sites <n>', 'sites a regional round needs', '2')
    .option('--round-timeout <s>', 'seconds a regional round waits for its sites (keep it under the parent\'s)')
    .option('--quorum <share>', "share of a regional round's sites that must endorse it")
    .option('--replica-dir <dir>', "the agent's state folder: its copy of the parent's ledger, its endorsements and kept answers", '.fedrx/region')
    .action(
      wrap(async (o: RegionFlags) => {
        const { runRegion } = await import('../site-agent/region-main.js');
        const { apiClient } = await import('./remote-commands.js');
        const { parsePublicKey, readPublicKeyFile } = await import('../shared/key-files.js');
        const k = o.parentKey;
        await runRegion({
          parentUrl: o.parent,
          parentKey: k === undefined ? undefined : /^[0-9a-fA-F]{64}$/.test(k) ? parsePublicKey(k, '--parent-key') : readPublicKeyFile(k),
          siteId: o.site,
          keyDir: o.key,
          replicaDir: o.replicaDir,
          region: apiClient(o.coordinator, { token: o.token, tlsCa: o.tlsCa }),
          relayRun: {
            minSites: positive(o.minSites, '--min-sites', 'sites'),
            ...(o.roundTimeout === undefined ? {} : { roundTimeoutSec: positiveSeconds(o.roundTimeout, '--round-timeout') }),
            ...(o.quorum === undefined ? {} : { endorsementQuorum: positive(o.quorum, '--quorum', 'endorsing share') }),
          },
          tlsCa: o.tlsCa,
          tlsPin: o.tlsPin,
        });
      }),
    );
}
