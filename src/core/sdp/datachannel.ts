// The data-channel m-section of WebRTC SDP (RFC 8841, RFC 8831 §5, JSEP RFC 8829 §5.1.2): read
// from an offer, built for an answer. Current form `m=application <port> UDP/DTLS/SCTP
// webrtc-datachannel` with `a=sctp-port` and `a=max-message-size`; the older form some stacks
// still send, `m=application <port> DTLS/SCTP 5000` with `a=sctpmap:5000 webrtc-datachannel
// <streams>` (draft-ietf-mmusic-sctp-sdp-05), is answered in kind. We take one data section, and
// only in the audio section's BUNDLE group: a call is one 5-tuple (RFC 8843). Anything else
// (TCP/DTLS/SCTP, a section outside the group, a second one) stays declined.
// Not here: the audio section (offer.ts, answer.ts), SCTP itself (src/core/sctp).
import type { MediaDescription } from 'sdp-transform';

/** RFC 8841 §5: a=sctp-port when the offer does not say. */
export const DEFAULT_SCTP_PORT = 5000;
/** What we announce when asked for nothing else: receive at least 256 KiB (as Chromium, issue #14). */
export const DEFAULT_LOCAL_MAX_MESSAGE_SIZE = 256 * 1024;

export interface DataOffer {
  /** Position among the offer's m= lines. */
  readonly index: number;
  readonly mid: string;
  /** `UDP/DTLS/SCTP`, or `DTLS/SCTP` for the older form. */
  readonly protocol: string;
  /** The older form (sctpmap): answered the same way. */
  readonly legacy: boolean;
  /** The offerer's SCTP port (RFC 8841 §5; the sctpmap number in the older form). */
  readonly sctpPort: number;
  /** The offerer's a=max-message-size (RFC 8841 §6): 0 = no limit, undefined = not said (64 KiB). */
  readonly maxMessageSize: number | undefined;
}

const PORT_MAX = 65535;

function port(v: unknown): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= PORT_MAX ? n : undefined;
}

/** The one data section we can take from an offer's sections, or undefined. Never throws. */
export function findDataOffer(
  media: readonly MediaDescription[],
  audioMid: string | undefined,
  bundleMids: readonly string[],
): DataOffer | undefined {
  if (audioMid === undefined || !bundleMids.includes(audioMid)) return undefined;
  for (const [index, m] of media.entries()) {
    if (m.type !== 'application' || (m.port === 0 && m.bundleOnly === undefined) || m.mid === undefined) continue;
    const mid = String(m.mid);
    if (!bundleMids.includes(mid)) continue;
    const formats = String(m.payloads ?? '').trim();
    let legacy: boolean;
    let sctpPort: number | undefined;
    if (/^UDP\/DTLS\/SCTP$/i.test(m.protocol) && formats === 'webrtc-datachannel') {
      legacy = false;
      sctpPort = m.sctpPort === undefined ? DEFAULT_SCTP_PORT : port(m.sctpPort);
    } else if (/^DTLS\/SCTP$/i.test(m.protocol) && m.sctpmap?.app === 'webrtc-datachannel' && String(m.sctpmap.sctpmapNumber) === formats) {
      legacy = true;
      sctpPort = port(m.sctpmap.sctpmapNumber);
    } else {
      continue;
    }
    if (sctpPort === undefined) continue;
    const mms = m.maxMessageSize;
    const maxMessageSize = mms === undefined ? undefined : Number.isSafeInteger(Number(mms)) && Number(mms) >= 0 ? Number(mms) : undefined;
    return { index, mid, protocol: m.protocol, legacy, sctpPort, maxMessageSize };
  }
  return undefined;
}

export interface DataAnswerParams {
  /** Our SCTP port (default 5000). */
  readonly sctpPort?: number;
  /** The largest message we receive (our a=max-message-size). */
  readonly maxMessageSize: number;
}

/**
 * The answer's data section: the offer's form, our port and max-message-size, and the transport
 * lines the audio section carries (`transport`: port, c=, ICE, fingerprint, setup, candidates —
 * the same 5-tuple, RFC 8843 §7.3.1).
 */
export function dataAnswerSection(offer: DataOffer, p: DataAnswerParams, transport: Partial<MediaDescription>): MediaDescription {
  const sctpPort = p.sctpPort ?? DEFAULT_SCTP_PORT;
  const section: MediaDescription = {
    ...transport,
    type: 'application',
    port: transport.port ?? 9,
    protocol: offer.protocol,
    payloads: offer.legacy ? String(sctpPort) : 'webrtc-datachannel',
    rtp: [],
    fmtp: [],
    mid: offer.mid,
    maxMessageSize: p.maxMessageSize,
  };
  if (offer.legacy) section.sctpmap = { sctpmapNumber: sctpPort, app: 'webrtc-datachannel', maxMessageSize: 1024 };
  else section.sctpPort = sctpPort;
  return section;
}
