// Path heartbeat (RFC 9260 §8.3): every HB.interval + RTO a HEARTBEAT carrying our send time and
// a random nonce; the matching HEARTBEAT-ACK gives an RTT measurement and proves the peer alive,
// an unanswered one counts as a timeout toward Association.Max.Retrans.
// Not here: the error counter or sending (association.ts).
import type { Rng } from '../rng.ts';
import { decodeHeartbeatInfo, encodeHeartbeatInfo } from './chunks.ts';

export class Heartbeat {
  readonly #intervalMs: number;
  readonly #rng: Rng;
  #at: number | undefined;
  #sent: Buffer | undefined;

  constructor(intervalMs: number, rng: Rng) {
    this.#intervalMs = intervalMs;
    this.#rng = rng;
  }

  get at(): number | undefined {
    return this.#at;
  }

  start(now: number): void {
    this.#at = now + this.#intervalMs;
  }

  stop(): void {
    this.#at = undefined;
    this.#sent = undefined;
  }

  /** The timer is due: whether the last one went unanswered, and the HEARTBEAT value to send. */
  fire(now: number, rto: number): { missed: boolean; value: Buffer } {
    const missed = this.#sent !== undefined;
    const info = Buffer.alloc(16);
    info.writeDoubleBE(now, 0);
    this.#rng.bytes(8).copy(info, 8);
    this.#sent = info;
    this.#at = now + this.#intervalMs + rto;
    return { missed, value: encodeHeartbeatInfo(info) };
  }

  /** A HEARTBEAT-ACK value: the RTT it measures, or undefined when it answers nothing of ours. */
  onAck(v: Buffer, now: number): number | undefined {
    const info = decodeHeartbeatInfo(v);
    const sent = this.#sent;
    if (info === undefined || sent === undefined || !info.equals(sent)) return undefined;
    this.#sent = undefined;
    return now - sent.readDoubleBE(0);
  }
}
