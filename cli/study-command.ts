// `fedrx study …` commands. Registration only: the work is loaded when a command runs, so other
// commands start without it.

import type { Command } from 'commander';
import type { StudyInitOptions } from './study-init.js';

type Wrap = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

export function registerStudyCommands(program: Command, wrap: Wrap): void {
  const study = program.command('study').description('studies: what the sites\' CSVs hold and what the model learns');
  study
    .command('init')
    .description(
      "draft a study (commented YAML) from one site's CSV: infers each column's kind, groups columns sharing a prefix (5 or more, e.g. expr_*) into patterns, leaves out identifiers, constants and text with over 12 levels, and proposes a model for the data's shape",
    )
    .requiredOption('--data <file.csv>', 'one site\'s CSV (read here; nothing is sent anywhere)')
    .requiredOption('--target <column>', 'the column to predict')
    .requiredOption('--out <study.yaml>', 'where to write the study')
    .option('--id <column>', 'column naming rows (default: the first text column with a different value in every row)')
    .option('--ignore <col,col…>', 'columns to leave out')
    .option('--task <task>', 'regression or classification (default: regression for a numeric target with more than two values)')
    .option('--name <name>', 'study name (default: from the file name)')
    .option('--seed <n>', 'seed of the sites\' hold-out split', '1')
    .option('--force', 'overwrite --out if it exists')
    .action(
      wrap(async (o: StudyInitOptions) => {
        const { studyInit } = await import('./study-init.js');
        studyInit(o);
      }),
    );
}
