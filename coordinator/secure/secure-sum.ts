// The coordinator's record of one secure round, stage by stage: who advertised keys (U1), who
// shared (U2), whose masked vector is in the running sum (U3), what was revealed; it builds each
// site's roster, inbox and unmask request from that, and ends with the unmasked sum. It only
// relays sealed boxes and adds masked vectors: no single site's update is ever in its hands.

import { hexToBytes } from '@noble/hashes/utils.js';
import { FedrxError } from '../../shared/errors.js';
import { addRing } from '../../shared/secagg/masks.js';
import { neighboursOf, type SecureParams } from '../../shared/secagg/params.js';
import { unmaskSum } from '../../shared/secagg/recover.js';
import type { KeyAdvert, SecaggInbox, SecaggRoster, SecaggShares, SecaggUnmask } from '../../shared/secagg/wire.js';

export interface SecureRoundRef {
  runId: string;
  round: number;
  params: SecureParams;
  /** The selected sites, sorted. */
  sites: readonly string[];
  /** Length of every masked vector. */
  length: number;
}

export class SecureSum {
  private readonly adverts = new Map<string, KeyAdvert & { publicKey: string }>();
  private readonly shares = new Map<string, SecaggShares>();
  private readonly refusedBy = new Map<string, Set<string>>();
  private readonly uploaded = new Set<string>();
  private readonly selfShares = new Map<string, Uint8Array[]>();
  private readonly keyShares = new Map<string, Uint8Array[]>();
  private sum: Uint32Array;

  constructor(readonly ref: SecureRoundRef) {
    this.sum = new Uint32Array(ref.length);
  }

  neighbours(site: string): string[] {
    return neighboursOf(site, this.ref.sites, this.ref.params.neighbours);
  }

  // ---- stage 1: keys ---------------------------------------------------------------------

  /** An advert already checked for signature and site; a second, different one is refused. */
  addAdvert(advert: KeyAdvert, publicKey: string): void {
    const before = this.adverts.get(advert.siteId);
    if (before !== undefined && (before.cPk !== advert.cPk || before.sPk !== advert.sPk)) {
      throw new FedrxError('E_SECAGG_KEYS', `site ${advert.siteId} already advertised other keys this round: one set of keys goes to every neighbour`);
    }
    const clash = [...this.adverts.values()].find((a) => a.siteId !== advert.siteId && (a.cPk === advert.cPk || a.sPk === advert.sPk || a.cPk === advert.sPk));
    if (clash !== undefined) throw new FedrxError('E_SECAGG_KEYS', `site ${advert.siteId} advertised a key of site ${clash.siteId}`);
    this.adverts.set(advert.siteId, { ...advert, publicKey });
  }

  advertised(): string[] {
    return [...this.adverts.keys()].sort();
  }

  rosterFor(site: string): SecaggRoster {
    const keys = [site, ...this.neighbours(site)].filter((s) => this.adverts.has(s)).map((s) => this.adverts.get(s)!);
    return { type: 'secagg-roster', v: 1, runId: this.ref.runId, round: this.ref.round, keys };
  }

  // ---- stage 2: shares -------------------------------------------------------------------

  /** A site's sealed boxes: one for each of its neighbours that advertised, no other. */
  addShares(msg: SecaggShares): void {
    if (!this.adverts.has(msg.siteId)) throw new FedrxError('E_SECAGG_SHARE', `site ${msg.siteId} shares without having advertised keys`);
    const expected = new Set(this.rosterFor(msg.siteId).keys.map((k) => k.siteId).filter((s) => s !== msg.siteId));
    const to = new Set<string>();
    for (const b of msg.boxes) {
      if (!expected.has(b.to)) throw new FedrxError('E_SECAGG_SHARE', `site ${msg.siteId} sent a share for ${b.to}, which is not one of its neighbours with keys`);
      if (to.has(b.to)) throw new FedrxError('E_SECAGG_SHARE', `site ${msg.siteId} sent two shares for ${b.to}`);
      to.add(b.to);
    }
    if (to.size !== expected.size) throw new FedrxError('E_SECAGG_SHARE', `site ${msg.siteId} sent ${to.size} shares for its ${expected.size} neighbours with keys`);
    this.shares.set(msg.siteId, msg);
  }

  shared(): string[] {
    return [...this.shares.keys()].sort();
  }

  inboxFor(site: string): SecaggInbox {
    const boxes: SecaggInbox['boxes'] = [];
    for (const [from, msg] of this.shares) {
      const box = msg.boxes.find((b) => b.to === site);
      if (box !== undefined) boxes.push({ from, box: box.box });
    }
    boxes.sort((a, b) => (a.from < b.from ? -1 : 1));
    return { type: 'secagg-inbox', v: 1, runId: this.ref.runId, round: this.ref.round, boxes };
  }

  // ---- stage 3: inbox opened ------------------------------------------------------------

  /** A site opened its inbox; the senders of boxes it could not open are left out of the round. */
  addOpened(site: string, refusedBoxes: readonly { from: string }[]): void {
    if (!this.shares.has(site)) throw new FedrxError('E_SECAGG_SHARE', `site ${site} opened an inbox without having shared`);
    const senders = new Set(this.inboxFor(site).boxes.map((b) => b.from));
    const stranger = refusedBoxes.find((r) => !senders.has(r.from));
    if (stranger !== undefined) throw new FedrxError('E_SECAGG_SHARE', `site ${site} refuses a box from ${stranger.from}, which was not relayed to it`);
    this.refusedBy.set(site, new Set(refusedBoxes.map((r) => r.from)));
  }

  /** Sites named by a neighbour as the sender of a box that did not open. */
  accused(): string[] {
    const out = new Set<string>();
    for (const set of this.refusedBy.values()) for (const s of set) out.add(s);
    return [...out].sort();
  }

  /** Who is asked for a masked update: opened its inbox, and no neighbour refused its box. */
  ready(): string[] {
    const accused = new Set(this.accused());
    return [...this.refusedBy.keys()].filter((s) => !accused.has(s)).sort();
  }

  // ---- stage 4: masked vectors ----------------------------------------------------------

  /** Folds one masked vector (already checked: hash, signature) into the running sum. */
  addMasked(site: string, masked: Uint32Array, sPk: string = this.adverts.get(site)?.sPk ?? ''): void {
    if (!this.ready().includes(site)) throw new FedrxError('E_SECAGG_MASKED', `site ${site} was not asked for a masked update this round`);
    if (sPk !== this.adverts.get(site)!.sPk) throw new FedrxError('E_SECAGG_MASKED', `site ${site} masked its update with keys of another attempt at this round`);
    if (this.uploaded.has(site)) throw new FedrxError('E_DUPLICATE_UPDATE', `site ${site} already sent its masked update`);
    if (masked.length !== this.ref.length) throw new FedrxError('E_SECAGG_MASKED', `masked vector of ${masked.length} values, the round expects ${this.ref.length}`);
    addRing(this.sum, masked);
    this.uploaded.add(site);
  }

  /** Survivors: their masked vectors are in the sum. Dropped: they shared, and theirs is not. */
  split(): { survivors: string[]; dropped: string[] } {
    const survivors = [...this.uploaded].sort();
    const dropped = this.shared().filter((s) => !this.uploaded.has(s));
    return { survivors, dropped };
  }

  unmaskRequest(): SecaggUnmask {
    const { survivors, dropped } = this.split();
    return { type: 'secagg-unmask', v: 1, runId: this.ref.runId, round: this.ref.round, survivors, dropped };
  }

  // ---- stage 5: unmasking ----------------------------------------------------------------

  addReveal(site: string, selfShares: readonly { of: string; share: string }[], keyShares: readonly { of: string; share: string }[]): void {
    const { survivors, dropped } = this.split();
    const mine = new Set([site, ...this.neighbours(site)]);
    const take = (list: readonly { of: string; share: string }[], allowed: readonly string[], into: Map<string, Uint8Array[]>, what: string): void => {
      for (const { of, share } of list) {
        if (!mine.has(of) || !allowed.includes(of)) throw new FedrxError('E_SECAGG_REVEAL', `site ${site} revealed a ${what} share of ${of}, which was not asked of it`);
      }
      for (const { of, share } of list) into.set(of, [...(into.get(of) ?? []), hexToBytes(share)]);
    };
    take(selfShares, survivors, this.selfShares, 'self-mask');
    take(keyShares, dropped, this.keyShares, 'key');
  }

  /** The sum of the survivors' quantised vectors; E_SECAGG_THRESHOLD when too few shares came back. */
  async finish(): Promise<{ sum: Uint32Array; survivors: string[]; dropped: string[] }> {
    const { survivors, dropped } = this.split();
    const maskedWith = new Map<string, string[]>();
    for (const s of survivors) {
      const refused = this.refusedBy.get(s) ?? new Set<string>();
      maskedWith.set(s, this.inboxFor(s).boxes.map((b) => b.from).filter((f) => !refused.has(f)));
    }
    const sum = await unmaskSum(this.sum, {
      runId: this.ref.runId,
      round: this.ref.round,
      params: this.ref.params,
      sites: this.ref.sites,
      sPk: new Map([...this.adverts].map(([s, a]) => [s, a.sPk])),
      selfCommits: new Map([...this.shares].map(([s, m]) => [s, m.selfCommit])),
      survivors,
      dropped,
      maskedWith,
      selfShares: this.selfShares,
      keyShares: this.keyShares,
    });
    this.sum = new Uint32Array(0);
    return { sum, survivors, dropped };
  }
}
