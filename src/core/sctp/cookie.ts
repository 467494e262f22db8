// The State Cookie (RFC 9260 §5.1.3): everything an association needs, signed, handed to the
// peer in INIT-ACK and taken back in COOKIE-ECHO. Answering an INIT therefore creates no state,
// so an INIT flood costs one HMAC per packet and no memory (RFC 9260 §5.1.3, §11.2.2). The MAC
// is HMAC-SHA256 truncated to 128 bits under a per-association secret from the injected Rng; the
// issue time is the shell's `now`, and a cookie older than its lifetime is stale (§5.1.5 step 3).
// Not here: what the association does with a valid cookie.
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 1;
const BODY = 34;
const MAC = 16;
export const COOKIE_LENGTH = BODY + MAC;

/** The TCB parameters a cookie carries; tags and TSNs as the side that made the cookie sees them. */
export interface CookieState {
  issuedAt: number;
  localTag: number;
  peerTag: number;
  localInitialTsn: number;
  peerInitialTsn: number;
  peerARwnd: number;
  outboundStreams: number;
  inboundStreams: number;
  peerForwardTsn: boolean;
  peerReconfig: boolean;
}

export function sealCookie(secret: Buffer, s: CookieState): Buffer {
  const c = Buffer.alloc(COOKIE_LENGTH);
  c[0] = VERSION;
  c.writeDoubleBE(s.issuedAt, 1);
  c.writeUInt32BE(s.localTag, 9);
  c.writeUInt32BE(s.peerTag, 13);
  c.writeUInt32BE(s.localInitialTsn, 17);
  c.writeUInt32BE(s.peerInitialTsn, 21);
  c.writeUInt32BE(s.peerARwnd, 25);
  c.writeUInt16BE(s.outboundStreams, 29);
  c.writeUInt16BE(s.inboundStreams, 31);
  c[33] = (s.peerForwardTsn ? 1 : 0) | (s.peerReconfig ? 2 : 0);
  mac(secret, c.subarray(0, BODY)).copy(c, BODY);
  return c;
}

export type OpenedCookie = { ok: true; state: CookieState } | { ok: false; reason: 'bad_cookie' | 'stale_cookie' };

/** Verifies and opens a cookie; the MAC is checked before anything in it is believed. */
export function openCookie(secret: Buffer, c: Buffer, now: number, lifetimeMs: number): OpenedCookie {
  if (c.length !== COOKIE_LENGTH || c[0] !== VERSION) return { ok: false, reason: 'bad_cookie' };
  if (!timingSafeEqual(mac(secret, c.subarray(0, BODY)), c.subarray(BODY))) return { ok: false, reason: 'bad_cookie' };
  const issuedAt = c.readDoubleBE(1);
  // Fails closed on NaN and on a cookie from the future.
  if (!(now - issuedAt <= lifetimeMs && issuedAt <= now)) return { ok: false, reason: 'stale_cookie' };
  return {
    ok: true,
    state: {
      issuedAt,
      localTag: c.readUInt32BE(9),
      peerTag: c.readUInt32BE(13),
      localInitialTsn: c.readUInt32BE(17),
      peerInitialTsn: c.readUInt32BE(21),
      peerARwnd: c.readUInt32BE(25),
      outboundStreams: c.readUInt16BE(29),
      inboundStreams: c.readUInt16BE(31),
      peerForwardTsn: (c[33] & 1) !== 0,
      peerReconfig: (c[33] & 2) !== 0,
    },
  };
}

function mac(secret: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, MAC);
}
