// Stream reset (RFC 6525), the way data channels close (RFC 8831 §6.7): we send an Outgoing SSN
// Reset Request for streams we stop using, and perform the peer's requests for the streams it
// stops using, once every TSN it sent before the request has arrived ("deferred reset
// processing", §5.2.2). One request of ours is outstanding at a time, resent on its timer; the
// peer's retransmitted request gets the same answer again. Requests we do not support (incoming
// reset, SSN/TSN reset, add streams) are denied. Not here: what a reset means to a channel.
import { tsnAdd, tsnLte } from './serial.ts';

export const ReconfigParam = {
  outgoingReset: 13,
  incomingReset: 14,
  ssnTsnReset: 15,
  response: 16,
  addOutgoing: 17,
  addIncoming: 18,
} as const;
export const ReconfigResult = {
  nothingToDo: 0,
  performed: 1,
  denied: 2,
  wrongSsn: 3,
  alreadyInProgress: 4,
  badSequence: 5,
  inProgress: 6,
} as const;

/** The largest number of stream ids in one request: what fits a 1200-byte packet with margin. */
const MAX_STREAMS_PER_REQUEST = 256;

export interface StreamResetHost {
  /** The peer's cumulative TSN as we have received it. */
  cumTsn(): number;
  /** Perform the peer's outgoing reset on our inbound side. */
  resetIncoming(streamIds: number[]): void;
  /** Our outgoing request was answered. */
  outgoingDone(streamIds: number[], ok: boolean): void;
}

interface Request {
  seq: number;
  streams: number[];
  lastTsn: number;
}

export class StreamReset {
  readonly #host: StreamResetHost;
  readonly #queued = new Set<number>();
  #inflight: Request | undefined;
  #nextSeq: number;
  #peerNextSeq: number;
  #lastResponse: { seq: number; result: number } | undefined;
  #deferred: Request | undefined;
  timerAt: number | undefined;

  constructor(host: StreamResetHost, localInitialTsn: number, peerInitialTsn: number) {
    this.#host = host;
    // RFC 6525 §5.1.1: request sequence numbers start at the sender's initial TSN.
    this.#nextSeq = localInitialTsn;
    this.#peerNextSeq = peerInitialTsn;
  }

  /** Streams queued or in a request not yet answered. */
  resetting(streamId: number): boolean {
    return this.#queued.has(streamId) || (this.#inflight?.streams.includes(streamId) ?? false);
  }

  request(streamIds: number[]): void {
    for (const id of streamIds) if (!this.resetting(id)) this.#queued.add(id);
  }

  get queued(): ReadonlySet<number> {
    return this.#queued;
  }

  /**
   * The RE-CONFIG value of a new request, when none is outstanding and `ready` says the queued
   * streams have no unsent data left (their last message must get its TSN first).
   */
  nextRequest(lastAssignedTsn: number, ready: boolean, now: number, rto: number): Buffer | undefined {
    if (this.#inflight !== undefined || this.#queued.size === 0 || !ready) return undefined;
    const streams = [...this.#queued].slice(0, MAX_STREAMS_PER_REQUEST);
    for (const id of streams) this.#queued.delete(id);
    this.#inflight = { seq: this.#nextSeq, streams, lastTsn: lastAssignedTsn };
    this.#nextSeq = tsnAdd(this.#nextSeq, 1);
    this.timerAt = now + rto;
    return this.#encodeRequest(this.#inflight);
  }

  /** The outstanding request again (its timer expired), or undefined when none. */
  onTimer(now: number, rto: number): Buffer | undefined {
    if (this.#inflight === undefined) {
      this.timerAt = undefined;
      return undefined;
    }
    this.timerAt = now + rto;
    return this.#encodeRequest(this.#inflight);
  }

  /** Handles one RE-CONFIG chunk value; returns the response values to send, or undefined if malformed. */
  onChunk(v: Buffer): Buffer[] | undefined {
    const out: Buffer[] = [];
    let off = 0;
    let n = 0;
    while (off + 4 <= v.length) {
      const type = v.readUInt16BE(off);
      const length = v.readUInt16BE(off + 2);
      if (length < 4 || off + length > v.length || ++n > 2) return undefined;
      const body = v.subarray(off + 4, off + length);
      if (type === ReconfigParam.outgoingReset) {
        if (body.length < 12 || body.length % 2 !== 0) return undefined;
        const streams: number[] = [];
        for (let i = 12; i < body.length; i += 2) streams.push(body.readUInt16BE(i));
        out.push(this.#onPeerRequest({ seq: body.readUInt32BE(0), lastTsn: body.readUInt32BE(8), streams }));
      } else if (type === ReconfigParam.response) {
        if (body.length < 8) return undefined;
        this.#onResponse(body.readUInt32BE(0), body.readUInt32BE(4));
      } else if (type >= ReconfigParam.incomingReset && type <= ReconfigParam.addIncoming) {
        if (body.length < 4) return undefined;
        out.push(this.#answer(body.readUInt32BE(0), ReconfigResult.denied));
      } else {
        return undefined;
      }
      off += (length + 3) & ~3;
    }
    return n === 0 ? undefined : out;
  }

  /** Performs a deferred peer request once its last TSN has arrived; returns the response to send. */
  checkDeferred(): Buffer | undefined {
    const d = this.#deferred;
    if (d === undefined || !tsnLte(d.lastTsn, this.#host.cumTsn())) return undefined;
    this.#deferred = undefined;
    this.#host.resetIncoming(d.streams);
    return this.#answer(d.seq, ReconfigResult.performed);
  }

  #onPeerRequest(r: Request): Buffer {
    if (this.#lastResponse !== undefined && r.seq === this.#lastResponse.seq && this.#deferred?.seq !== r.seq) {
      return this.#answer(r.seq, this.#lastResponse.result);
    }
    if (this.#deferred?.seq === r.seq) return this.checkDeferred() ?? this.#answer(r.seq, ReconfigResult.inProgress);
    if (r.seq !== this.#peerNextSeq) return this.#answer(r.seq, ReconfigResult.badSequence);
    this.#peerNextSeq = tsnAdd(this.#peerNextSeq, 1);
    if (!tsnLte(r.lastTsn, this.#host.cumTsn())) {
      this.#deferred = r;
      return this.#answer(r.seq, ReconfigResult.inProgress);
    }
    this.#host.resetIncoming(r.streams);
    return this.#answer(r.seq, ReconfigResult.performed);
  }

  #onResponse(seq: number, result: number): void {
    const r = this.#inflight;
    if (r === undefined || seq !== r.seq) return;
    // In progress: the peer waits for our data; the timer sends the same request again.
    if (result === ReconfigResult.inProgress) return;
    this.#inflight = undefined;
    this.timerAt = undefined;
    this.#host.outgoingDone(r.streams, result === ReconfigResult.performed || result === ReconfigResult.nothingToDo);
  }

  #answer(seq: number, result: number): Buffer {
    this.#lastResponse = { seq, result };
    const v = Buffer.alloc(12);
    v.writeUInt16BE(ReconfigParam.response, 0);
    v.writeUInt16BE(12, 2);
    v.writeUInt32BE(seq, 4);
    v.writeUInt32BE(result, 8);
    return v;
  }

  #encodeRequest(r: Request): Buffer {
    const len = 16 + 2 * r.streams.length;
    const v = Buffer.alloc((len + 3) & ~3);
    v.writeUInt16BE(ReconfigParam.outgoingReset, 0);
    v.writeUInt16BE(len, 2);
    v.writeUInt32BE(r.seq, 4);
    // RFC 6525 §4.1: "Re-configuration Response Sequence Number" = the peer's next expected - 1.
    v.writeUInt32BE(tsnAdd(this.#peerNextSeq, -1), 8);
    v.writeUInt32BE(r.lastTsn, 12);
    r.streams.forEach((id, i) => v.writeUInt16BE(id, 16 + 2 * i));
    return v;
  }
}
