// What marks a run as simulated (`fedrx simulate`): virtual sites on one machine, their data
// partitioned from one source. Stored in the run's configuration (so its hash covers it) and
// copied into every ledger entry of the run, so nobody mistakes a simulated model for one trained
// at hospitals.

import { Type, type Static } from '@sinclair/typebox';

export const SimulationSectionSchema = Type.Object(
  {
    /** Virtual sites the simulation started. */
    virtualSites: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    /** Where their rows came from: a generator or a file name, never a path or a row. */
    source: Type.String({ minLength: 1, maxLength: 128 }),
    /** How the rows were split among them, e.g. `iid`, `column:site`, `dirichlet-label:0.5`. */
    partition: Type.String({ minLength: 1, maxLength: 128 }),
    seed: Type.String({ maxLength: 128 }),
    /** Chance that a site drops out of a training round. */
    dropout: Type.Number({ minimum: 0, maximum: 1 }),
    /** Share of sites that answer late, and by how long. */
    stragglers: Type.Number({ minimum: 0, maximum: 1 }),
    straggleMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
    /** Share of sites whose updates are hostile, and how (shared/byzantine). */
    byzantine: Type.Number({ minimum: 0, maximum: 1 }),
    attack: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /**
     * A two-level simulation (docs/scale.md): the regions the virtual sites were split among. In
     * the parent's run, whose own sites are the regions; a region's relay runs leave it out.
     */
    regions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type SimulationSection = Static<typeof SimulationSectionSchema>;

/** The `simulation` field of a run's ledger entries: present only for a simulated run. */
export function simulationMark(config: { simulation?: SimulationSection }): { simulation?: SimulationSection } {
  return config.simulation === undefined ? {} : { simulation: config.simulation };
}
