// The client's half of the offer/answer exchange (JSEP RFC 8829): builds the offer `parley call`
// sends (one audio section, and a data-channel section when asked, RFC 8841), and reads the facts
// the client needs back from the answer (the server's ICE credentials and candidates, DTLS
// fingerprint and role, the Opus payload type, the data channel's SCTP port and max-message-size).
// Pure: every random or configured value is a parameter. Not the server's offer reader or
// answer builder (src/core/sdp).
import { write } from 'sdp-transform';
import { parseSdp } from '../core/sdp/parse.ts';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import type { TransportAddress } from '../core/address.ts';
import { ipToBytes } from '../core/address.ts';
import { DEFAULT_SCTP_PORT } from '../core/sdp/index.ts';
import type { CallTransportName } from './call-transport.ts';
import { ClientError, ClientErrorCode } from './errors.ts';

/** Opus payload type the client offers; the same number Chromium uses (RFC 7587 §7). */
export const OFFER_OPUS_PT = 111;
/** telephone-event/48000 (RFC 4733), the number Chromium offers it at. */
export const OFFER_TELEPHONE_EVENT_PT = 110;

export interface OfferParams {
  readonly iceUfrag: string;
  readonly icePwd: string;
  /** Our certificate's fingerprint (RFC 8122), e.g. { algorithm: 'sha-256', value: 'AB:…' }. */
  readonly fingerprint: { readonly algorithm: string; readonly value: string };
  /** Our one host candidate: the local UDP socket's address, or for TCP the host and port 9. */
  readonly candidate: TransportAddress;
  /** The candidate's transport (default udp); a TCP one is active (RFC 6544 §4.5: we connect). */
  readonly transport?: CallTransportName;
  readonly ssrc: number;
  readonly cname: string;
  /** o= session id: a numeric string (RFC 8866 §5.2). */
  readonly sessionId: string;
  /** Offer a data-channel section (mid 1, bundled with the audio) announcing this a=max-message-size. */
  readonly dataChannel?: { readonly maxMessageSize: number };
}

/** RFC 8445 §5.1.2.1 for one host candidate of component 1: 126·2^24 + 65535·2^8 + 255. */
const HOST_PRIORITY = 126 * 2 ** 24 + 65535 * 2 ** 8 + 255;
/** RFC 6544 §4.2 for an active TCP host candidate: type preference 90 (as the server's passive
 * ones), local preference 2^13 × 6 (active, host) + 8191, component 1. */
const TCP_ACTIVE_PRIORITY = 90 * 2 ** 24 + (6 * 2 ** 13 + 8191) * 2 ** 8 + 255;

/**
 * An offer like a browser's audio-only one: BUNDLE with one section, rtcp-mux, setup:actpass
 * (RFC 8842 §5.2: an offerer must say actpass), Opus/48000/2 at PT 111 with in-band FEC.
 */
export function buildOffer(p: OfferParams): string {
  const c = p.candidate;
  const ipVer = c.family === 'IPv6' ? 6 : 4;
  const audio: MediaDescription = {
    type: 'audio',
    port: c.port,
    protocol: 'UDP/TLS/RTP/SAVPF',
    payloads: `${OFFER_OPUS_PT} ${OFFER_TELEPHONE_EVENT_PT}`,
    connection: { version: ipVer, ip: c.address },
    rtp: [
      { payload: OFFER_OPUS_PT, codec: 'opus', rate: 48000, encoding: 2 },
      { payload: OFFER_TELEPHONE_EVENT_PT, codec: 'telephone-event', rate: 48000 },
    ],
    fmtp: [{ payload: OFFER_OPUS_PT, config: 'minptime=10;useinbandfec=1' }],
    candidates: [
      p.transport === 'tcp'
        ? {
            foundation: '1',
            component: 1,
            transport: 'tcp',
            priority: TCP_ACTIVE_PRIORITY,
            ip: c.address,
            port: c.port,
            type: 'host',
            tcptype: 'active',
          }
        : { foundation: '1', component: 1, transport: 'udp', priority: HOST_PRIORITY, ip: c.address, port: c.port, type: 'host' },
    ],
    endOfCandidates: 'end-of-candidates',
    iceUfrag: p.iceUfrag,
    icePwd: p.icePwd,
    fingerprint: { type: p.fingerprint.algorithm, hash: p.fingerprint.value },
    setup: 'actpass',
    mid: '0',
    direction: 'sendrecv',
    rtcpMux: 'rtcp-mux',
    ssrcs: [{ id: p.ssrc, attribute: 'cname', value: p.cname }],
  };
  const media = [audio];
  if (p.dataChannel) {
    // As a browser offers it (RFC 8841 §5-6): same transport as the audio, SCTP port 5000.
    const { port, connection, candidates, endOfCandidates, iceUfrag, icePwd, fingerprint, setup } = audio;
    media.push({
      type: 'application',
      port,
      protocol: 'UDP/DTLS/SCTP',
      payloads: 'webrtc-datachannel',
      connection,
      candidates,
      endOfCandidates,
      iceUfrag,
      icePwd,
      fingerprint,
      setup,
      mid: '1',
      sctpPort: DEFAULT_SCTP_PORT,
      maxMessageSize: p.dataChannel.maxMessageSize,
      rtp: [],
      fmtp: [],
    });
  }
  const session: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: p.sessionId, sessionVersion: 2, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    timing: { start: 0, stop: 0 },
    groups: [{ type: 'BUNDLE', mids: media.map((m) => m.mid).join(' ') }],
    media,
  };
  return write(session);
}

export interface AnswerSummary {
  readonly iceUfrag: string;
  readonly icePwd: string;
  readonly iceLite: boolean;
  readonly fingerprint: { readonly algorithm: string; readonly value: string };
  /** The answerer's a=setup: `active` makes it the DTLS client and us the server (RFC 5763 §5). */
  readonly setup: 'active' | 'passive';
  /** The asked transport's candidates (UDP, or passive TCP), highest priority first (RFC 8445 §6.1.2.6 orders checks the same way). */
  readonly candidates: readonly TransportAddress[];
  readonly opusPayloadType: number;
  /** telephone-event/48000 when the answer kept it (key presses can be sent). */
  readonly telephoneEventPayloadType: number | undefined;
  /** The answer took our data-channel section: its SCTP port and a=max-message-size (undefined: not said). */
  readonly data: { readonly sctpPort: number; readonly maxMessageSize: number | undefined } | undefined;
}

function bad(message: string): ClientError {
  return new ClientError(ClientErrorCode.BadAnswer, `unusable SDP answer: ${message}`);
}

function toAddress(ip: string, port: number): TransportAddress | undefined {
  const bytes = ipToBytes(ip);
  if (!bytes || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { address: ip, port, family: bytes.length === 4 ? 'IPv4' : 'IPv6' };
}

/**
 * Reads an answer to our offer, keeping the candidates of `transport` (default udp; for tcp the
 * passive ones, RFC 6544 §6.2: our active candidate pairs only with those). Throws
 * ClientError(BadAnswer) with what is missing.
 */
export function parseAnswer(text: string, transport: CallTransportName = 'udp'): AnswerSummary {
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!text.startsWith('v=0')) throw bad('it does not start with v=0');
  const audio = (sdp.media ?? []).find((m) => m.type === 'audio' && m.port !== 0);
  if (!audio) throw bad('the audio section is missing or rejected (port 0)');
  const iceUfrag = audio.iceUfrag ?? sdp.iceUfrag;
  const icePwd = audio.icePwd ?? sdp.icePwd;
  if (!iceUfrag || !icePwd) throw bad('no a=ice-ufrag / a=ice-pwd');
  const fp = audio.fingerprint ?? sdp.fingerprint;
  if (!fp) throw bad('no a=fingerprint');
  const setup = (audio.setup ?? sdp.setup ?? '').toLowerCase();
  // RFC 8842 §5.3: an answer says active or passive; actpass is not allowed in an answer.
  if (setup !== 'active' && setup !== 'passive') throw bad(`a=setup:${setup || '(none)'} (must be active or passive)`);
  const opus = audio.rtp.find((r) => r.codec.toLowerCase() === 'opus' && r.rate === 48000);
  if (!opus) throw bad('no opus/48000 payload type');
  const candidates = (audio.candidates ?? [])
    .filter((c) => c.transport.toLowerCase() === transport && c.component === 1 && (transport === 'udp' || c.tcptype === 'passive'))
    .sort((a, b) => b.priority - a.priority)
    .map((c) => toAddress(c.ip, c.port))
    .filter((a): a is TransportAddress => a !== undefined);
  if (candidates.length === 0)
    throw bad(
      transport === 'tcp'
        ? 'no passive TCP candidate: the server offers no ICE-TCP (its transceiver needs --relays-tcp, its relay --listen-tcp)'
        : 'no UDP candidate',
    );
  const app = (sdp.media ?? []).find((m) => m.type === 'application' && m.port !== 0);
  let data: AnswerSummary['data'];
  if (app) {
    const sctpPort = Number(app.sctpPort ?? app.sctpmap?.sctpmapNumber ?? DEFAULT_SCTP_PORT);
    if (!Number.isInteger(sctpPort) || sctpPort < 1 || sctpPort > 65535) throw bad(`a=sctp-port:${String(app.sctpPort)} is not a port`);
    const mms = app.maxMessageSize === undefined ? undefined : Number(app.maxMessageSize);
    if (mms !== undefined && !(Number.isSafeInteger(mms) && mms >= 0))
      throw bad(`a=max-message-size:${String(app.maxMessageSize)} is not a size`);
    data = { sctpPort, maxMessageSize: mms };
  }
  return {
    iceUfrag,
    icePwd,
    iceLite: sdp.icelite === 'ice-lite',
    fingerprint: { algorithm: fp.type.toLowerCase(), value: fp.hash.toUpperCase() },
    setup,
    candidates,
    opusPayloadType: opus.payload,
    telephoneEventPayloadType: audio.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 48000)?.payload,
    data,
  };
}
