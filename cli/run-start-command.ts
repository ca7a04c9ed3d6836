// `fedrx run start`: its flags and help. The strategy flags come from the strategy registry
// (strategy-flags.ts); the work is loaded when the command runs (remote-commands.ts).

import type { Command } from 'commander';
import { DP_FLAGS } from './dp-flags.js';
import { strategiesHelp, strategyFlags } from './strategy-flags.js';

type Wrap = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

// A token given on the command line is visible to other users in `ps`: FEDRX_TOKEN is safer.
export const TOKEN_HELP = 'API token (default: the FEDRX_TOKEN environment variable, which other users cannot see in `ps`)';

/** Adds `start` to the `run` command; returns it. */
export function addRunStartCommand(run: Command, wrap: Wrap): Command {
  return addRunFlags(run.command('start').description('launch a training run').requiredOption('--coordinator <url>', 'coordinator URL'))
    .option('--wait', 'follow the run round by round and exit when it ends')
    .option('--token <t>', TOKEN_HELP)
    .option('--tls-ca <file>', 'extra trusted CA certificate(s), PEM, for an https coordinator (default: $FEDRX_TLS_CA)')
    .addHelpText('after', strategiesHelp())
    .action(
      wrap(async (o: Record<string, unknown>) => {
        const { startRunCommand } = await import('./remote-commands.js');
        process.exitCode = await startRunCommand(o);
      }),
    );
}

/** What a run is made of: study, strategy and its options, DP, secure aggregation, rounds and training (shared with `fedrx simulate`). */
export function addRunFlags(start: Command): Command {
  start
    .option('--study <name|file>', 'a study name from datasets/studies, or a study file (JSON or YAML)', 'synthetic-warfarin')
    .option('--l2 <value|v1,v2,…|auto>', "L2 penalty on the linear model's weights, overriding the study's model.l2; a grid or 'auto' is chosen by federated validation (exact fits)");
  for (const flag of strategyFlags()) start.addOption(flag);
  for (const [flag, help] of DP_FLAGS) start.option(flag, help);
  return start
    .option('--rounds <r>', 'number of rounds', '5')
    .option('--min-sites <k>', 'fewest updates a round may close with', '2')
    .option('--local-epochs <e>', 'epochs each site trains per round')
    .option('--lr <x>', 'local learning rate')
    .option('--lr-decay <x>', 'round r trains with lr × decay^(r−1) (default 1: constant)')
    .option('--batch-size <b>', 'local minibatch size')
    .option('--optimizer <name>', 'local optimiser: sgd or adam')
    .option('--seed <n>', 'seed of the initial model and local shuffles')
    .option('--round-timeout <sec>', 'deadline of each round')
    .option('--wait-for-sites <sec>', 'how long to wait for enough sites to connect')
    .option('--quorum <x>', 'fraction of an entry\'s participants whose endorsement makes it endorsed (default 0.5)')
    .option('--serve-endorsed-only', 'serve clinicians only models whose ledger entry is endorsed')
    .option('--patience <n>', 'with a study validation part: stop after n rounds without a better validation loss; 0 never stops (default 20)')
    .option('--coverage <x>', 'coverage 1 − α of the served prediction intervals and sets, 0 < x < 1 (default 0.9)')
    .option('--secure-aggregation', 'pairwise-masked secure aggregation (SecAgg+): the coordinator only ever holds the sum of the sites\' updates')
    .option('--secagg-threshold <t>', 'secure aggregation: shares needed to rebuild a site\'s secret, the fewest sites a round can finish with (default: just over 2/3 of each neighbourhood)')
    .option('--secagg-neighbours <k>', 'secure aggregation: each site shares with a ring of k neighbours (default: all sites; at most 128)')
    .option('--secagg-clip <c>', 'secure aggregation: each weighted update coordinate is clipped to [−c, c] (default 4)')
    .option('--secagg-quant-bits <b>', 'secure aggregation: 2^b quantisation levels (default 20)');
}
