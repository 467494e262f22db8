// One SRTP/SRTCP session of a DTLS-SRTP association (RFC 3711 + RFC 7714): the local direction
// protects what we send, the remote direction unprotects what we receive. Holds the per-SSRC
// state RFC 3711 §3.2.3 keys on (ROC, highest sequence, replay list; SRTCP index and replay
// list), created on the first packet that authenticates, capped per session.
//
// Buffers: every protect/unprotect returns a FRESH buffer and never modifies its input, so
// callers may queue or retain both. Receive paths return an SrtpError (shared frozen
// instances) instead of throwing; send paths throw SrtpError only for packets we built wrong.
// Not here: key derivation rate > 0, MKI, SSRC-less RTCP, cryptex (RFC 9335).
import { RTP_BAD_VERSION, RTP_TOO_SHORT, rtpHeaderLength } from '../rtp/header-length.ts';
import { srtpError, type SrtpError } from './errors.ts';
import { deriveSessionKeys, splitDtlsKeyingMaterial, type DirectionKeys } from './kdf.ts';
import { SRTP_PROFILES, type SrtpProfileName } from './profile.ts';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from '../replay-window.ts';
import { AesCmHmacSha1Transform } from './transform-aes-cm.ts';
import { AesGcmTransform } from './transform-aes-gcm.ts';
import type { SrtpTransform } from './transform.ts';

export interface SrtpMasterKey {
  key: Buffer;
  salt: Buffer;
}

export interface SrtpSessionOptions {
  /** SSRCs tracked per direction (RTP and RTCP each); a new one beyond this is dropped. Default 16. */
  maxSsrcs?: number;
  /** Replay window in packets, at least 64 (RFC 3711 §3.3.2). Default 128. */
  replayWindow?: number;
  /**
   * Builds the cipher half of one direction from its session keys instead of the TypeScript
   * transforms (e.g. the transceiver's native AES-CM transform); returning undefined, e.g. for
   * a profile it does not implement, falls back to the TypeScript one. Default: TypeScript.
   */
  createTransform?: SrtpTransformFactory;
}

export type SrtpTransformFactory = (profile: SrtpProfileName, keys: DirectionKeys) => SrtpTransform | undefined;

export const DEFAULT_MAX_SSRCS = 16;
const MAX_PACKET = 65536;
const MAX_ROC = 0xffffffff;
const MAX_SRTCP_INDEX = 0x7fffffff;

/**
 * RFC 3711 Appendix A / §3.3.1: the ROC guess v for sequence number `seq`, given the highest
 * sequence number s_l seen so far under rollover counter `roc`. May return -1 or 2^32.
 */
export function estimateRoc(roc: number, sl: number, seq: number): number {
  if (sl < 32768) return seq - sl > 32768 ? roc - 1 : roc;
  return sl - 32768 > seq ? roc + 1 : roc;
}

/** Per-SSRC RTP state, one shape for both directions (the sender estimates like a receiver). */
class RtpStream {
  roc = 0;
  sl: number;
  readonly window: ReplayWindow;
  constructor(firstSeq: number, windowSize: number) {
    this.sl = firstSeq;
    this.window = new ReplayWindow(windowSize);
  }
}

function makeTransform(profile: SrtpProfileName, m: SrtpMasterKey, factory: SrtpTransformFactory | undefined): SrtpTransform {
  const keys = deriveSessionKeys(profile, m.key, m.salt);
  const custom = factory?.(profile, keys);
  if (custom) return custom;
  return SRTP_PROFILES[profile].aead ? new AesGcmTransform(keys.rtp, keys.rtcp) : new AesCmHmacSha1Transform(keys.rtp, keys.rtcp);
}

export class SrtpSession {
  readonly profile: SrtpProfileName;
  readonly #out: SrtpTransform;
  readonly #in: SrtpTransform;
  readonly #maxSsrcs: number;
  readonly #window: number;
  readonly #sendRtp = new Map<number, RtpStream>();
  readonly #recvRtp = new Map<number, RtpStream>();
  readonly #sendRtcp = new Map<number, number>(); // SSRC → next SRTCP index
  readonly #recvRtcp = new Map<number, ReplayWindow>();

  /**
   * `keyingMaterial` is the DTLS exporter output "EXTRACTOR-dtls_srtp" laid out per RFC 5764
   * §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt. The
   * client protects with the client keys; the server with the server keys.
   */
  static fromDtls(profile: SrtpProfileName, keyingMaterial: Buffer, role: 'client' | 'server', options?: SrtpSessionOptions): SrtpSession {
    const { client, server } = splitDtlsKeyingMaterial(profile, keyingMaterial);
    return role === 'client' ? new SrtpSession(profile, client, server, options) : new SrtpSession(profile, server, client, options);
  }

  /** `local` master key/salt protects outgoing packets, `remote` unprotects incoming ones. */
  constructor(profile: SrtpProfileName, local: SrtpMasterKey, remote: SrtpMasterKey, options: SrtpSessionOptions = {}) {
    this.profile = profile;
    this.#out = makeTransform(profile, local, options.createTransform);
    this.#in = makeTransform(profile, remote, options.createTransform);
    this.#maxSsrcs = options.maxSsrcs ?? DEFAULT_MAX_SSRCS;
    this.#window = options.replayWindow ?? DEFAULT_REPLAY_WINDOW;
  }

  /**
   * RTP → SRTP (fresh buffer). Throws SrtpError if the packet is not valid RTP, if its index
   * was already protected or is older than the replay window ('replayed' / 'too_old': a
   * retransmission must get a new sequence number, e.g. RTX), or past 'too_many_ssrcs'.
   */
  protectRtp(packet: Buffer): Buffer {
    const h = rtpHeaderLength(packet);
    if (h < 0) throw srtpError(headerReason(h));
    if (packet.length > MAX_PACKET) throw srtpError('malformed');
    const ssrc = packet.readUInt32BE(8);
    const seq = (packet[2] << 8) | packet[3];
    let s = this.#sendRtp.get(ssrc);
    if (!s) {
      if (this.#sendRtp.size >= this.#maxSsrcs) throw srtpError('too_many_ssrcs');
      s = new RtpStream(seq, this.#window);
      this.#sendRtp.set(ssrc, s);
    }
    const v = estimateRoc(s.roc, s.sl, seq);
    if (v < 0) throw srtpError('too_old');
    if (v > MAX_ROC) throw srtpError('index_exhausted');
    // Like libsrtp, refuse to protect an index twice: with AES-CM that reuses keystream and
    // with GCM it reuses a nonce, which leaks the authentication key if the payloads differ.
    const verdict = s.window.check(v * 65536 + seq);
    if (verdict !== 'ok') throw srtpError(verdict);
    if (s.window.commit(v * 65536 + seq)) {
      s.roc = v;
      s.sl = seq;
    }
    const out = this.#out.protectRtp(packet, h, ssrc, v, seq);
    if (!out) throw srtpError('malformed');
    return out;
  }

  /** SRTP → RTP (fresh buffer), or the reason it was dropped. State changes only on success. */
  unprotectRtp(packet: Buffer): Buffer | SrtpError {
    const t = this.#in;
    if (packet.length < 12 + t.tagLength) return srtpError('too_short');
    if (packet.length > MAX_PACKET + t.tagLength) return srtpError('malformed');
    // The header length is computed on the packet without its tag so that a header extension
    // claiming to cover the tag is rejected before any crypto runs.
    const h = rtpHeaderLength(packet, packet.length - t.tagLength);
    if (h < 0) return srtpError(headerReason(h));
    const ssrc = packet.readUInt32BE(8);
    const seq = (packet[2] << 8) | packet[3];
    const s = this.#recvRtp.get(ssrc);
    let v = 0;
    if (s) {
      v = estimateRoc(s.roc, s.sl, seq);
      if (v < 0) return srtpError('too_old');
      if (v > MAX_ROC) return srtpError('auth_failed'); // cannot authenticate: ROC field is 32 bits
      const verdict = s.window.check(v * 65536 + seq);
      if (verdict !== 'ok') return srtpError(verdict);
    } else if (this.#recvRtp.size >= this.#maxSsrcs) {
      return srtpError('too_many_ssrcs');
    }
    const out = t.unprotectRtp(packet, h, ssrc, v, seq);
    if (!out) return srtpError('auth_failed');
    // RFC 3711 §3.3.1: update ROC and s_l only after authentication, and only forward.
    const stream = s ?? this.#newRecvStream(ssrc, seq);
    if (stream.window.commit(v * 65536 + seq)) {
      stream.roc = v;
      stream.sl = seq;
    }
    return out;
  }

  /** RTCP compound → SRTCP with E=1 and the SSRC's next SRTCP index (fresh buffer). Throws SrtpError on bad RTCP. */
  protectRtcp(packet: Buffer): Buffer {
    if (packet.length < 8) throw srtpError('too_short');
    if (packet[0] >>> 6 !== 2) throw srtpError('bad_version');
    if (packet.length > MAX_PACKET) throw srtpError('malformed');
    const ssrc = packet.readUInt32BE(4);
    let index = this.#sendRtcp.get(ssrc);
    if (index === undefined) {
      if (this.#sendRtcp.size >= this.#maxSsrcs) throw srtpError('too_many_ssrcs');
      index = 0; // RFC 3711 §3.4: the SRTCP index starts at zero …
    }
    if (index > MAX_SRTCP_INDEX) throw srtpError('index_exhausted'); // … and must not repeat under one key
    this.#sendRtcp.set(ssrc, index + 1);
    const out = this.#out.protectRtcp(packet, ssrc, index);
    if (!out) throw srtpError('malformed');
    return out;
  }

  /** SRTCP → RTCP compound (fresh buffer), or the reason it was dropped. */
  unprotectRtcp(packet: Buffer): Buffer | SrtpError {
    const t = this.#in;
    if (packet.length < t.minSrtcpLength) return srtpError('too_short');
    if (packet[0] >>> 6 !== 2) return srtpError('bad_version');
    if (packet.length > MAX_PACKET + t.minSrtcpLength) return srtpError('malformed');
    const ssrc = packet.readUInt32BE(4);
    const eIndex = packet.readUInt32BE(t.srtcpTrailerOffset(packet.length));
    const index = eIndex & MAX_SRTCP_INDEX;
    const w = this.#recvRtcp.get(ssrc);
    if (w) {
      const verdict = w.check(index);
      if (verdict !== 'ok') return srtpError(verdict);
    } else if (this.#recvRtcp.size >= this.#maxSsrcs) {
      return srtpError('too_many_ssrcs');
    }
    const out = t.unprotectRtcp(packet, ssrc, eIndex);
    if (!out) return srtpError('auth_failed');
    let window = w;
    if (!window) {
      window = new ReplayWindow(this.#window);
      this.#recvRtcp.set(ssrc, window);
    }
    window.commit(index);
    return out;
  }

  /** State for tests and operations (mediasoup-style dump()): ROC and highest index per SSRC. */
  dump(): { sendRtp: SsrcDump[]; recvRtp: SsrcDump[]; sendRtcpIndex: [number, number][] } {
    const rtp = (m: Map<number, RtpStream>): SsrcDump[] =>
      [...m].map(([ssrc, s]) => ({ ssrc, roc: s.roc, highestSeq: s.sl, highestIndex: s.window.highest }));
    return { sendRtp: rtp(this.#sendRtp), recvRtp: rtp(this.#recvRtp), sendRtcpIndex: [...this.#sendRtcp] };
  }

  #newRecvStream(ssrc: number, seq: number): RtpStream {
    const s = new RtpStream(seq, this.#window);
    this.#recvRtp.set(ssrc, s);
    return s;
  }
}

export interface SsrcDump {
  ssrc: number;
  roc: number;
  highestSeq: number;
  highestIndex: number;
}

function headerReason(code: number): 'too_short' | 'bad_version' | 'malformed' {
  return code === RTP_TOO_SHORT ? 'too_short' : code === RTP_BAD_VERSION ? 'bad_version' : 'malformed';
}
