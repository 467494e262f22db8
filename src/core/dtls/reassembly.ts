// Handshake message reassembly (RFC 6347 §4.2.3): fragments arrive in any order, duplicated or
// overlapping; a message is delivered once, complete, strictly in message_seq order. Fragments
// of messages already delivered are reported as `old` so the endpoint can tell that the peer
// retransmitted its previous flight (RFC 6347 §4.2.4). Memory is bounded: only a small window
// of future messages is buffered, and each message has a size cap.

/** How far ahead of the next expected message_seq we buffer (a flight has at most 6 messages). */
const MAX_AHEAD = 8;
/** Largest handshake message we accept: WebRTC certificates are a few hundred bytes (RSA-4096 ones ~1.5 KB). */
export const MAX_MESSAGE = 16384;
/** Total bytes of partial messages held at once, so forged fragments cannot pin much memory. */
const MAX_BUFFERED = 49152;

export interface HandshakeMessage {
  msgType: number;
  seq: number;
  body: Buffer;
  /** The highest record epoch any fragment came in (Finished must come wholly in epoch 1). */
  epoch: number;
  /** The lowest record epoch any fragment came in. */
  minEpoch: number;
  /** The record sequence number of the last fragment received (HelloVerifyRequest echoes it). */
  recordSeq: number;
}

interface Partial {
  msgType: number;
  body: Buffer;
  have: Uint8Array;
  missing: number;
  epoch: number;
  minEpoch: number;
  recordSeq: number;
}

/** The `have` of a message that arrived whole: nothing is missing, so nothing is looked up. */
const COMPLETE = new Uint8Array(0);

export type FragmentResult = 'old' | 'buffered' | 'dropped';

export class Reassembler {
  #next = 0;
  readonly #pending = new Map<number, Partial>();

  get nextSeq(): number {
    return this.#next;
  }

  /** Forgets everything and expects `seq` next (a server before it accepts a ClientHello). */
  restartAt(seq: number): void {
    this.#pending.clear();
    this.#next = seq;
  }

  add(
    frag: { msgType: number; length: number; messageSeq: number; fragmentOffset: number; body: Buffer },
    epoch: number,
    recordSeq = 0,
  ): FragmentResult {
    if (frag.messageSeq < this.#next) return 'old';
    if (frag.messageSeq >= this.#next + MAX_AHEAD || frag.length > MAX_MESSAGE) return 'dropped';
    let p = this.#pending.get(frag.messageSeq);
    if (p === undefined) {
      let buffered = frag.length;
      for (const q of this.#pending.values()) buffered += q.body.length;
      if (buffered > MAX_BUFFERED) return 'dropped';
      if (frag.fragmentOffset === 0 && frag.body.length === frag.length) {
        // The usual case: the whole message in one fragment. A copy of it (from Node's pool:
        // every byte is written) and nothing to track.
        const body = Buffer.allocUnsafe(frag.length);
        frag.body.copy(body);
        this.#pending.set(frag.messageSeq, { msgType: frag.msgType, body, have: COMPLETE, missing: 0, epoch, minEpoch: epoch, recordSeq });
        return 'buffered';
      }
      p = {
        msgType: frag.msgType,
        body: Buffer.alloc(frag.length),
        have: new Uint8Array(frag.length),
        missing: frag.length,
        epoch,
        minEpoch: epoch,
        recordSeq,
      };
      this.#pending.set(frag.messageSeq, p);
    } else if (p.msgType !== frag.msgType || p.body.length !== frag.length) {
      // A fragment that contradicts earlier ones is not ours to trust; drop it, keep the rest.
      return 'dropped';
    }
    p.epoch = Math.max(p.epoch, epoch);
    p.minEpoch = Math.min(p.minEpoch, epoch);
    p.recordSeq = recordSeq;
    // A message already complete keeps its bytes: a duplicate adds nothing to it.
    if (p.missing === 0) return 'buffered';
    frag.body.copy(p.body, frag.fragmentOffset);
    for (let i = frag.fragmentOffset; i < frag.fragmentOffset + frag.body.length; i++) {
      if (p.have[i] === 0) {
        p.have[i] = 1;
        p.missing--;
      }
    }
    return 'buffered';
  }

  /** The next complete message in order, if there is one. */
  next(): HandshakeMessage | undefined {
    const p = this.#pending.get(this.#next);
    if (p === undefined || p.missing > 0) return undefined;
    this.#pending.delete(this.#next);
    return { msgType: p.msgType, seq: this.#next++, body: p.body, epoch: p.epoch, minEpoch: p.minEpoch, recordSeq: p.recordSeq };
  }
}
