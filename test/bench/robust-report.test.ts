import { describe, expect, it } from 'vitest';
import { goalVerdict, robustTable, type RobustCell } from '../../bench/robust-report.js';

const c = (strategy: string, attack: string | null, fraction: number, mae: number): RobustCell => ({ strategy, attack, fraction, hostile: Math.round(fraction * 22), mae });

// Clean FedAvg 8.00: +5% is 8.40.
const cells: RobustCell[] = [
  c('fedavg', null, 0, 8),
  c('median', null, 0, 8.2),
  c('fedavg', 'sign-flip', 0.2, 12),
  c('median', 'sign-flip', 0.2, 8.3),
  c('fedavg', 'noise', 0.2, 8.12),
  c('median', 'noise', 0.2, 8.5),
];

describe('bench:robust report', () => {
  it('tabulates each MAE with its change against the clean FedAvg MAE', () => {
    const table = robustTable(cells, ['fedavg', 'median'], ['sign-flip', 'noise'], [0, 0.2], 'fedavg');
    expect(table.split('\n')).toEqual([
      '| hostile sites | attack | fedavg | median |',
      '|---|---|---|---|',
      '| none | – | 8.00 (+0.0%) | 8.20 (+2.5%) |',
      '| 20% (4) | sign-flip | 12.00 (+50.0%) | 8.30 (+3.8%) |',
      '| 20% (4) | noise | 8.12 (+1.5%) | 8.50 (+6.3%) |',
    ]);
  });

  it('holds only where the best robust rule is within 5% and FedAvg degrades by more', () => {
    const signFlip = goalVerdict(cells, ['median'], ['sign-flip'], 0.2, 'fedavg');
    expect(signFlip).toEqual({ holds: true, met: 1, lines: ['sign-flip: best robust median 8.30 (+3.8%), within 5%; fedavg 12.00 (+50.0%), degrades'] });
    const both = goalVerdict(cells, ['median'], ['sign-flip', 'noise', 'scale'], 0.2, 'fedavg');
    expect([both.holds, both.met]).toEqual([false, 1]);
    expect(both.lines.slice(1)).toEqual([
      'noise: best robust median 8.50 (+6.3%), NOT within 5%; fedavg 8.12 (+1.5%), does not degrade beyond 5%',
      'scale: not measured',
    ]);
  });

  it('needs the clean reference run', () => {
    expect(() => robustTable(cells.slice(1), ['median'], [], [0], 'fedavg')).toThrow('no clean fedavg run');
  });
});
