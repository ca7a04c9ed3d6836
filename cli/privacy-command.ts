// `fedrx privacy …` commands. Registration only: the work is loaded when a command runs.

import type { Command } from 'commander';

type Wrap = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

export function registerPrivacyCommands(program: Command, wrap: Wrap, tlsCaHelp: string, tokenHelp: string): void {
  const privacy = program.command('privacy').description("differential privacy: ε spent per run and per site (from the ledger), and the sites' budgets");
  privacy
    .command('report')
    .description('ε per DP run and per site across all runs on its data, recomputed from the ledger, with each site\'s budget (auditor or admin token)')
    .requiredOption('--coordinator <url>', 'coordinator URL')
    .option('--json', 'print the whole report as JSON')
    .option('--token <t>', tokenHelp)
    .option('--tls-ca <file>', tlsCaHelp)
    .action(
      wrap(async (o: { coordinator: string; json?: boolean; token?: string; tlsCa?: string }) => {
        const { privacyReportCommand } = await import('./privacy-report.js');
        process.exitCode = await privacyReportCommand(o.coordinator, o);
      }),
    );
  privacy
    .command('budget')
    .description("set (or lift) the most ε a site's data may spend across all runs; runs that could pass it are refused at start (admin token)")
    .requiredOption('--coordinator <url>', 'coordinator URL')
    .requiredOption('--site <id>', 'site id')
    .option('--epsilon <e>', 'the budget, a positive ε')
    .option('--lift', 'remove the site\'s budget')
    .option('--token <t>', tokenHelp)
    .option('--tls-ca <file>', tlsCaHelp)
    .action(
      wrap(async (o: { coordinator: string; site: string; epsilon?: string; lift?: boolean; token?: string; tlsCa?: string }) => {
        const { privacyBudgetCommand } = await import('./privacy-report.js');
        process.exitCode = await privacyBudgetCommand(o.coordinator, o);
      }),
    );
}
