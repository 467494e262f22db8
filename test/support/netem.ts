// The one simulated network of Parley's tests (STYLE.md rule 9; str0m's seeded network): UDP
// datagrams between attached addresses on a manual clock, with latency, jitter, Bernoulli or
// Gilbert-Elliott loss, duplication, reordering and NATs that can rebind. Nothing here sleeps
// or touches a socket: a test (or progress() in ./progress.ts) calls deliver(now) at
// nextDeadline(). Every random draw comes from a small seeded PRNG, one stream per direction
// (from → to), with a fixed number of draws per datagram: the same seed and the same traffic
// give every packet the same fate, and traffic on one direction never shifts the other's.
// Not here: who drives the endpoints (progress.ts), or anything protocol-aware.
import type { TransportAddress } from '../../src/core/address.ts';
import { formatAddress } from '../../src/core/address.ts';

/** Two-state burst loss (Gilbert 1960, Elliott 1963): the link flips between good and bad. */
export interface GilbertElliott {
  /** Per datagram, the chance a good link turns bad. */
  pGoodToBad: number;
  /** Per datagram, the chance a bad link turns good (mean burst length = 1 / pBadToGood). */
  pBadToGood: number;
  /** Loss probability while good (default 0). */
  lossGood?: number;
  /** Loss probability while bad (default 1). */
  lossBad?: number;
}

export interface LinkProfile {
  /** One-way delay (default 0). */
  latencyMs?: number;
  /**
   * Each datagram's delay is latencyMs ± up to jitterMs (never below 0). A link is FIFO, so jitter
   * alone never reorders: a datagram never arrives before one sent earlier on the same direction.
   */
  jitterMs?: number;
  /** Probability of loss per datagram, or a Gilbert-Elliott model for bursts. */
  loss?: number | GilbertElliott;
  /** Probability that a datagram arrives twice (the copy right behind the original). */
  duplicate?: number;
  /** Probability that a datagram is held back by reorderExtraMs, so later ones overtake it. */
  reorder?: number;
  /** Extra delay of a reordered datagram (default 20 ms). */
  reorderExtraMs?: number;
}

export interface Datagram {
  from: TransportAddress;
  to: TransportAddress;
  data: Buffer;
}

export interface NetemStats {
  /** Datagrams given to send(). */
  sent: number;
  /** Datagrams dropped: by the loss model, or at delivery because nobody is attached there. */
  lost: number;
  /** Of `lost`, those whose destination had no receiver (or only a stale NAT mapping). */
  unreachable: number;
  /** Extra copies made by `duplicate`. */
  duplicated: number;
  /** Datagrams delivered after a datagram sent later on the same direction. */
  reordered: number;
  /** Datagrams (copies included) handed to a receiver. */
  delivered: number;
}

export interface ProfileScope {
  /** Only datagrams sent from this address (as given to send(), before any NAT). */
  from?: TransportAddress;
  /** Only datagrams sent to this address. */
  to?: TransportAddress;
}

type Receive = (d: Datagram, now: number) => void;

interface InFlight {
  at: number;
  /** Scheduling order: ties on `at` arrive in the order they were scheduled. */
  order: number;
  link: Link;
  /** Send order on its link, to count reordering at arrival. */
  linkSeq: number;
  from: TransportAddress;
  to: TransportAddress;
  data: Buffer;
}

/** One direction (sender → destination): its PRNG stream and its state. */
interface Link {
  readonly next: () => number;
  bad: boolean;
  /** Arrival time of the last in-order datagram (the FIFO floor for jitter). */
  lastArrival: number;
  sent: number;
  highestDelivered: number;
}

const DEFAULT_REORDER_EXTRA_MS = 20;

export class Netem {
  readonly stats: NetemStats = { sent: 0, lost: 0, unreachable: 0, duplicated: 0, reordered: 0, delivered: 0 };
  readonly #seed: number;
  #profile: LinkProfile;
  #scoped: Array<{ scope: ProfileScope; profile: LinkProfile }> = [];
  readonly #receivers = new Map<string, Receive>();
  /** inside → outside, and outside → inside, for each NAT mapping. */
  readonly #natOut = new Map<string, TransportAddress>();
  readonly #natIn = new Map<string, TransportAddress>();
  readonly #links = new Map<string, Link>();
  readonly #queue = new MinHeap<InFlight>((a, b) => a.at - b.at || a.order - b.order);
  #order = 0;

  /** A string seed is hashed to 32 bits, so a test can name its seed (`'lossy-7'`). */
  constructor(o: { seed: number | string; profile?: LinkProfile }) {
    this.#seed = typeof o.seed === 'string' ? fnv1a(o.seed) : o.seed >>> 0;
    this.#profile = { ...o.profile };
  }

  /**
   * Sets the profile for every direction, or, with a scope, for datagrams from and/or to an
   * address (the most specific scope wins: from+to, then from, then to). A profile set without a
   * scope clears all scoped ones. Applies to datagrams sent from now on.
   */
  setProfile(profile: LinkProfile, scope?: ProfileScope): void {
    if (!scope || (!scope.from && !scope.to)) {
      this.#profile = { ...profile };
      this.#scoped = [];
      return;
    }
    this.#scoped = this.#scoped.filter((s) => !(same(s.scope.from, scope.from) && same(s.scope.to, scope.to)));
    this.#scoped.push({ scope: { ...scope }, profile: { ...profile } });
  }

  /** Datagrams to `address` (or to a NAT's outside address that maps to it) go to `receive`. */
  attach(address: TransportAddress, receive: Receive): void {
    this.#receivers.set(formatAddress(address), receive);
  }

  /** Stops delivering to `address`; datagrams still in flight to it become unreachable. */
  detach(address: TransportAddress): void {
    this.#receivers.delete(formatAddress(address));
  }

  /**
   * Puts `inside` behind a NAT: datagrams from it leave with source `outside`, and datagrams to
   * `outside` reach inside's receiver. Called again with a new outside, the NAT rebinds: the old
   * outside address stops working at once, for datagrams already in flight too.
   */
  nat(inside: TransportAddress, outside: TransportAddress): void {
    const key = formatAddress(inside);
    const old = this.#natOut.get(key);
    if (old) this.#natIn.delete(formatAddress(old));
    this.#natOut.set(key, outside);
    this.#natIn.set(formatAddress(outside), inside);
  }

  /** Puts a datagram on the wire at `now`; the data is copied, so the caller may reuse its buffer. */
  send(d: Datagram, now: number): void {
    this.stats.sent++;
    const link = this.#link(d.from, d.to);
    const p = this.#profileFor(d.from, d.to);
    // Always the same five draws per datagram, whatever the profile, so fates stay aligned by seed.
    const uState = link.next();
    const uLoss = link.next();
    const uDup = link.next();
    const uReorder = link.next();
    const uJitter = link.next();
    if (this.#lose(p.loss, link, uState, uLoss)) {
      link.sent++;
      this.stats.lost++;
      return;
    }
    const from = this.#natOut.get(formatAddress(d.from)) ?? d.from;
    const seq = link.sent++;
    const latency = p.latencyMs ?? 0;
    const jitter = p.jitterMs ?? 0;
    const delay = (u: number): number => Math.max(0, latency + (2 * u - 1) * jitter);
    let at = Math.max(now + delay(uJitter), link.lastArrival);
    if ((p.reorder ?? 0) > 0 && uReorder < p.reorder!) {
      at += p.reorderExtraMs ?? DEFAULT_REORDER_EXTRA_MS;
    } else {
      link.lastArrival = at;
    }
    this.#schedule({ at, order: 0, link, linkSeq: seq, from, to: d.to, data: Buffer.from(d.data) });
    if ((p.duplicate ?? 0) > 0 && uDup < p.duplicate!) {
      this.stats.duplicated++;
      // As Linux netem: the copy arrives right behind its original, so it never counts as reordered.
      this.#schedule({ at, order: 0, link, linkSeq: seq, from, to: d.to, data: Buffer.from(d.data) });
    }
  }

  /** When the next datagram arrives, or undefined when nothing is in flight. */
  nextDeadline(): number | undefined {
    return this.#queue.peek()?.at;
  }

  /** Datagrams on the wire. */
  get inFlight(): number {
    return this.#queue.size;
  }

  /**
   * Delivers every datagram due at or before `now`, in arrival order, including those a receiver
   * sends in reply that are due by then too; receivers are told `now` (a driver that calls this
   * at nextDeadline() makes that the exact arrival time). Returns how many were delivered.
   */
  deliver(now: number): number {
    let n = 0;
    for (let guard = 0; ; guard++) {
      const head = this.#queue.peek();
      if (!head || head.at > now) return n;
      if (guard >= 1_000_000) throw new Error(`Netem: over a million deliveries at t=${now} (a zero-latency loop?)`);
      this.#queue.pop();
      const inside = this.#natIn.get(formatAddress(head.to));
      const to = inside ?? head.to;
      const receive = this.#receivers.get(formatAddress(to));
      // A NAT's inside address is reachable only through its current outside mapping.
      if (!receive || (!inside && this.#natOut.has(formatAddress(to)))) {
        this.stats.lost++;
        this.stats.unreachable++;
        continue;
      }
      if (head.linkSeq < head.link.highestDelivered) this.stats.reordered++;
      head.link.highestDelivered = Math.max(head.link.highestDelivered, head.linkSeq);
      this.stats.delivered++;
      n++;
      receive({ from: head.from, to, data: head.data }, now);
    }
  }

  /** As deliver(): lets a Netem be one of progress()'s parts. */
  advance(now: number): void {
    this.deliver(now);
  }

  #schedule(f: InFlight): void {
    f.order = this.#order++;
    this.#queue.push(f);
  }

  #lose(loss: LinkProfile['loss'], link: Link, uState: number, uLoss: number): boolean {
    if (loss === undefined) return false;
    if (typeof loss === 'number') return uLoss < loss;
    link.bad = link.bad ? !(uState < loss.pBadToGood) : uState < loss.pGoodToBad;
    return uLoss < (link.bad ? (loss.lossBad ?? 1) : (loss.lossGood ?? 0));
  }

  #profileFor(from: TransportAddress, to: TransportAddress): LinkProfile {
    let best: { rank: number; profile: LinkProfile } | undefined;
    for (const s of this.#scoped) {
      if ((s.scope.from && !same(s.scope.from, from)) || (s.scope.to && !same(s.scope.to, to))) continue;
      const rank = (s.scope.from ? 2 : 0) + (s.scope.to ? 1 : 0);
      if (!best || rank > best.rank) best = { rank, profile: s.profile };
    }
    return best?.profile ?? this.#profile;
  }

  #link(from: TransportAddress, to: TransportAddress): Link {
    const key = `${formatAddress(from)}>${formatAddress(to)}`;
    let link = this.#links.get(key);
    if (!link) {
      link = { next: mulberry32(this.#seed ^ fnv1a(key)), bad: false, lastArrival: -Infinity, sent: 0, highestDelivered: -1 };
      this.#links.set(key, link);
    }
    return link;
  }
}

function same(a: TransportAddress | undefined, b: TransportAddress | undefined): boolean {
  if (!a || !b) return a === b;
  return a.address === b.address && a.port === b.port;
}

/** mulberry32 (Tommy Ettinger, public domain): uniform in [0, 1), 32 bits of state. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash that gives each direction its own stream. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A binary min-heap: 70 000 datagrams in flight stay O(log n) each. */
class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#less = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (this.#less(a[i], a[parent]) >= 0) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.#less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
