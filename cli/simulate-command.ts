// `fedrx simulate`: registration and flags. The run's own flags are `fedrx run start`'s; the work
// is loaded when the command runs (simulate-run.ts).

import type { Command } from 'commander';
import { addRunFlags } from './run-start-command.js';
import { strategiesHelp } from './strategy-flags.js';

type Wrap = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

export function registerSimulateCommand(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('simulate')
    .description('a whole federation on this machine: the real coordinator and many virtual sites (real agents sharing a few worker threads); the run is marked simulated on the ledger')
    .option('--sites <n>', 'virtual sites', '100')
    .option('--data <csv>', 'split this CSV among the sites (default: a synthetic warfarin cohort)')
    .option('--rows-per-site <n>', 'synthetic cohort: patients per site', '40')
    .option('--partition <how>', 'iid, column:NAME (one site per value), dirichlet-label:ALPHA or dirichlet-covariate:NAME:ALPHA', 'iid')
    .option('--sim-seed <s>', 'seed of the cohort, the partition, the keys\' roles and the dropouts', 'fedrx-simulate')
    .option('--threads <n>', 'worker threads the virtual sites share', '2')
    .option('--dropout <p>', 'chance that a site\'s link drops when it is asked to train (it redials)', '0')
    .option('--stragglers <p>', 'share of sites that answer late', '0')
    .option('--straggle-ms <ms>', 'how late a straggler answers', '2000')
    .option('--hostile <p>', 'share of hostile (Byzantine) sites', '0')
    .option('--attack <kind>', 'what hostile sites send: sign-flip, scale, noise or little-is-enough')
    .option('--regions <n>', 'two levels: split the sites among this many regional coordinators, each a site of a national coordinator that runs the study (docs/scale.md); 0: one coordinator', '0')
    .option('--region-min-sites <n>', 'with --regions: sites a regional round needs (default: half the region\'s)')
    .option('--dir <dir>', 'working folder (emptied first): data, keys, replicas, logs, the coordinator database', 'fedrx-sim');
  addRunFlags(cmd)
    .addHelpText('after', strategiesHelp())
    .action(
      wrap(async (o: Record<string, unknown>) => {
        const { simulateCommand } = await import('./simulate-run.js');
        process.exitCode = await simulateCommand(o);
      }),
    );
}
