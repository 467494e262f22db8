// Outgoing flights and their retransmission (RFC 6347 §4.2.4). A flight is a list of handshake
// messages (each with the epoch it goes out in) and ChangeCipherSpec; every (re)transmission
// fragments the messages to the MTU (RFC 6347 §4.2.3) and packs records into as few datagrams
// as fit, with fresh record sequence numbers (§4.1: retransmissions are new records).
//
// Timer choice: initial 400 ms, doubling, capped at 60 s (§4.2.4.1 suggests 1 s). Parley only
// starts DTLS after ICE has proven the path, whose round trips are typically well under 400 ms,
// so a shorter first timer saves the whole second a single early loss would otherwise cost call
// setup; a spurious retransmission costs one flight (~1–2 KB). The handshake as a whole is given
// up after HANDSHAKE_BUDGET_MS (see endpoint), which bounds the number of retransmissions to 6.
import { encodeFragment, HANDSHAKE_HEADER } from './handshake.ts';
import { ContentType, RECORD_HEADER } from './record.ts';
import { MAX_AEAD_OVERHEAD } from './suites.ts';

export const INITIAL_RETRANSMIT_MS = 400;
export const MAX_RETRANSMIT_MS = 60_000;

export type FlightEntry = { kind: 'handshake'; epoch: number; msgType: number; seq: number; body: Buffer } | { kind: 'ccs'; epoch: number };

/** Writes one record (assigning its sequence number and protecting it for its epoch). */
export type RecordWriter = (type: number, epoch: number, payload: Buffer) => Buffer;

/** Turns a flight into datagrams of at most `mtu` bytes. */
export function packFlight(entries: readonly FlightEntry[], mtu: number, write: RecordWriter): Buffer[] {
  const records: Buffer[] = [];
  for (const e of entries) {
    if (e.kind === 'ccs') {
      records.push(write(ContentType.changeCipherSpec, e.epoch, Buffer.from([1])));
      continue;
    }
    const overhead = RECORD_HEADER + (e.epoch > 0 ? MAX_AEAD_OVERHEAD : 0) + HANDSHAKE_HEADER;
    const room = Math.max(1, mtu - overhead);
    let offset = 0;
    do {
      const len = Math.min(room, e.body.length - offset);
      records.push(write(ContentType.handshake, e.epoch, encodeFragment(e.msgType, e.seq, e.body, offset, len)));
      offset += len;
    } while (offset < e.body.length);
  }
  const datagrams: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const r of records) {
    if (size > 0 && size + r.length > mtu) {
      datagrams.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
    current.push(r);
    size += r.length;
  }
  if (current.length > 0) datagrams.push(Buffer.concat(current));
  return datagrams;
}

/** The retransmission timer of RFC 6347 §4.2.4.1: exponential back-off with a cap. */
export class RetransmitTimer {
  #interval = INITIAL_RETRANSMIT_MS;
  #deadline: number | undefined;

  get deadline(): number | undefined {
    return this.#deadline;
  }

  /** A new flight went out: start over from the initial interval. */
  restart(now: number): void {
    this.#interval = INITIAL_RETRANSMIT_MS;
    this.#deadline = now + this.#interval;
  }

  /** The timer fired and we retransmitted: double the interval (§4.2.4.1). */
  backOff(now: number): void {
    this.#interval = Math.min(this.#interval * 2, MAX_RETRANSMIT_MS);
    this.#deadline = now + this.#interval;
  }

  /** The peer's retransmission made us resend: keep the interval, re-arm it (§4.2.4). */
  rearm(now: number): void {
    this.#deadline = now + this.#interval;
  }

  stop(): void {
    this.#deadline = undefined;
  }
}
