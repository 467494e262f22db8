// Association setup (RFC 9260 §5.1, §5.2): the INIT we send, the stateless INIT-ACK we answer
// any INIT with (its State Cookie carries the whole TCB, so nothing is kept), and what a
// COOKIE-ECHO may do in each state — including simultaneous open (§5.2.1: both sides sent INIT;
// each answers the other's INIT with its own tag, so both cookies carry matching tags, §5.2.4
// case D). An association restart (new tags on an established association) is refused: under
// DTLS a restarted peer restarts DTLS, which builds a new association. Not here: the machine's
// states and timers (association.ts).
import type { Rng } from '../rng.ts';
import { encodeInit } from './chunks.ts';
import type { InitChunk } from './chunks.ts';
import { sealCookie } from './cookie.ts';
import type { CookieState } from './cookie.ts';
import type { SctpState } from './types.ts';

/** What we announce in INIT and INIT-ACK. */
export interface LocalInit {
  tag: number;
  initialTsn: number;
  aRwnd: number;
  outboundStreams: number;
  inboundStreams: number;
}

/** A non-zero random 32-bit verification tag (RFC 9260 §5.3.1: 0 is reserved). */
export function randomTag(rng: Rng): number {
  for (;;) {
    const t = rng.bytes(4).readUInt32BE(0);
    if (t !== 0) return t;
  }
}

export function randomTsn(rng: Rng): number {
  return rng.bytes(4).readUInt32BE(0);
}

export function initValue(l: LocalInit): Buffer {
  return encodeInit({
    initiateTag: l.tag,
    aRwnd: l.aRwnd,
    outboundStreams: l.outboundStreams,
    inboundStreams: l.inboundStreams,
    initialTsn: l.initialTsn,
    forwardTsn: true,
    reconfig: true,
  });
}

/** The INIT-ACK value answering `peer` with our `local` parameters, sealed cookie included. */
export function initAckValue(secret: Buffer, local: LocalInit, peer: InitChunk, now: number): Buffer {
  const state: CookieState = {
    issuedAt: now,
    localTag: local.tag,
    peerTag: peer.initiateTag,
    localInitialTsn: local.initialTsn,
    peerInitialTsn: peer.initialTsn,
    peerARwnd: peer.aRwnd,
    outboundStreams: Math.min(local.outboundStreams, peer.inboundStreams),
    inboundStreams: Math.min(local.inboundStreams, peer.outboundStreams),
    peerForwardTsn: peer.forwardTsn,
    peerReconfig: peer.reconfig,
  };
  return encodeInit({
    initiateTag: local.tag,
    aRwnd: local.aRwnd,
    outboundStreams: local.outboundStreams,
    inboundStreams: local.inboundStreams,
    initialTsn: local.initialTsn,
    cookie: sealCookie(secret, state),
    forwardTsn: true,
    reconfig: true,
  });
}

/** RFC 9260 §3.3.2: an INIT or INIT-ACK with a zero tag or zero stream counts is invalid. */
export function validInit(i: InitChunk): boolean {
  return i.initiateTag !== 0 && i.outboundStreams !== 0 && i.inboundStreams !== 0;
}

export type CookieDecision = 'establish' | 'ack_again' | 'refuse';

/**
 * RFC 9260 §5.2.4 reduced to what a WebRTC association needs: with no TCB a valid cookie makes
 * one; while we wait (our own INIT out) a cookie carrying our tag completes the handshake (cases
 * B and D); once established the same tags mean our COOKIE-ACK was lost. Anything else would be
 * a restart, refused.
 */
export function cookieDecision(state: SctpState, hasTcb: boolean, localTag: number, peerTag: number, c: CookieState): CookieDecision {
  if (!hasTcb && state === 'closed') return 'establish';
  if (c.localTag !== localTag) return 'refuse';
  if (state === 'cookie_wait' || state === 'cookie_echoed') return 'establish';
  if (c.peerTag === peerTag && state === 'established') return 'ack_again';
  return 'refuse';
}
