// The site's rows as the compute thread holds them: read once per study, encoded once per
// (study, preprocessing), only the latest encoding kept.

import { canonicalJson } from '../shared/canonical-json.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import type { Study } from '../shared/study.js';
import { encodePart, loadSiteRows, type DataPart, type LoadOptions, type SiteRows } from './local-data.js';

/** `calibration`: the part whose scores calibrate prediction intervals (the validation part when there is one). */
export type Parts = { train: DataPart; validation: DataPart | null; calibration: DataPart | null; test: DataPart };

export class SiteData {
  private readonly rows = new Map<string, Promise<SiteRows>>();
  private encoded: ({ key: string } & Parts) | null = null;

  constructor(
    private readonly dataFile: string,
    private readonly load: LoadOptions,
    private readonly log: (line: string) => void,
  ) {}

  rowsFor(study: Study): Promise<SiteRows> {
    const key = canonicalJson(study);
    let p = this.rows.get(key);
    if (p === undefined) {
      p = loadSiteRows(this.dataFile, study, this.load);
      p.then(
        (d) =>
          this.log(
            `site data for study ${study.name}: ${d.totalRows} rows, ${d.train.length} train, ${d.test.length} held out, dropped ${JSON.stringify(d.dropped)}; ` +
              `${d.validation.length > 0 ? `the ${d.validation.length} validation rows` : `${d.calibration.length} rows`} calibrate prediction intervals`,
          ),
        () => this.rows.delete(key), // a fixed file is picked up by the next task
      );
      this.rows.set(key, p);
    }
    return p;
  }

  async partsFor(study: Study, prep: Preprocessing): Promise<Parts> {
    const key = canonicalJson([study, prep]);
    if (this.encoded?.key !== key) {
      const rows = await this.rowsFor(study);
      const validation = rows.validation.length > 0 ? encodePart(study, prep, rows.validation) : null;
      const calibration = validation ?? (rows.calibration.length > 0 ? encodePart(study, prep, rows.calibration) : null);
      this.encoded = { key, train: encodePart(study, prep, rows.train), validation, calibration, test: encodePart(study, prep, rows.test) };
    }
    return this.encoded;
  }
}
