// Builds the transceiver's SDP answer (JSEP RFC 8829 §5.3) to an analysed offer: ICE-lite
// (RFC 8445 §2.5), the routing token as ice-ufrag, one host candidate per advertised relay
// address and never one of the transceiver itself, DTLS-SRTP with our certificate's fingerprint,
// BUNDLE + rtcp-mux, Opus with the offer's payload type, and — when the caller takes data
// channels — the offered data-channel section (./datachannel.ts) on the same 5-tuple. Every other
// offered section is declined with port 0. Pure: the caller supplies every value that is random
// or configured. The answer is built as sdp-transform's object and written by a writer for exactly
// that object (writeAnswer). Not the offer reader (offer.ts).
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import type { TransportAddress } from '../address.ts';
import { dataAnswerSection } from './datachannel.ts';
import type { DataAnswerParams } from './datachannel.ts';
import type { Direction, OfferSummary, SetupRole } from './offer.ts';

export interface AnswerParams {
  readonly offer: OfferSummary;
  /** Our ICE credentials: the minted routing token and the password derived from it. */
  readonly iceUfrag: string;
  readonly icePwd: string;
  /** Our certificate's fingerprint (RFC 8122), e.g. { algorithm: 'sha-256', value: 'AB:CD:…' }. */
  readonly fingerprint: { readonly algorithm: string; readonly value: string };
  /** Relay public addresses in preference order; each becomes one UDP host candidate. */
  readonly candidates: readonly TransportAddress[];
  /** Candidates from this index on are the backup location's (lower local preference); default none. */
  readonly backupFrom?: number;
  /**
   * Relay ICE-TCP addresses (RFC 6544) in preference order; each becomes one passive TCP host
   * candidate, below every UDP candidate, so a client that can use UDP does. Default none.
   */
  readonly tcpCandidates?: readonly TransportAddress[];
  /** Our outbound SSRC and RTCP CNAME (RFC 7022), announced so the browser can bind them. */
  readonly ssrc: number;
  readonly cname: string;
  /** The o= session id (RFC 8866 §5.2: a numeric string, ≤ 63 bits for JSEP §5.2.1). */
  readonly sessionId: string;
  /** a=msid stream id (RFC 8830); browsers hand it to `ontrack` as `streams[0].id`. */
  readonly streamId: string;
  /** Take the offer's data-channel section (offer.data) with these; declined when absent. */
  readonly dataChannels?: DataAnswerParams;
}

/** Whether buildAnswer() takes the offer's data channel: offered (in the audio's BUNDLE group) and wanted. */
export function acceptsData(p: Pick<AnswerParams, 'offer' | 'dataChannels'>): boolean {
  return p.offer.data !== undefined && p.dataChannels !== undefined;
}

/** Our DTLS role for the offer's a=setup (RFC 8842 §5.3): actpass or passive → we connect. */
export function answerSetup(offerSetup: SetupRole): 'active' | 'passive' {
  return offerSetup === 'active' ? 'passive' : 'active';
}

/** The DTLS role that goes with our a=setup: active is the DTLS client (RFC 5763 §5). */
export function dtlsRole(offerSetup: SetupRole): 'client' | 'server' {
  return answerSetup(offerSetup) === 'active' ? 'client' : 'server';
}

/** RFC 3264 §6.1: the answer's direction mirrors the offer's. */
function answerDirection(offered: Direction): Direction {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  return offered;
}

/**
 * RFC 8445 §5.1.2.1: priority = 2^24·type preference + 2^8·local preference + (256 − component).
 * Host candidates use type preference 126; earlier relays get a higher local preference, so the
 * browser tries the nearest location first. A backup location's candidates start half-way down
 * the local-preference range (32767 − rank), far below any primary address whatever its rank.
 */
export function candidatePriority(rank: number, backup = false): number {
  return 126 * 2 ** 24 + ((backup ? 32767 : 65535) - rank) * 2 ** 8 + (256 - 1);
}

/**
 * A passive TCP host candidate's priority (RFC 6544 §4.2): type preference 90, below UDP host's
 * 126 (as libwebrtc ranks TCP host candidates), local preference 2^13·direction preference
 * (passive: 4) + 8191 − rank, so UDP wins whenever it works and the nearest relay leads.
 */
export function tcpCandidatePriority(rank: number): number {
  return 90 * 2 ** 24 + (4 * 2 ** 13 + 8191 - Math.min(rank, 8191)) * 2 ** 8 + (256 - 1);
}

function ipVer(a: TransportAddress): number {
  return a.family === 'IPv6' ? 6 : 4;
}

function audioSection(p: AnswerParams, setup: 'active' | 'passive'): MediaDescription {
  const { audio } = p.offer;
  const rtp: MediaDescription['rtp'] = [{ payload: audio.opusPayloadType, codec: 'opus', rate: 48000, encoding: 2 }];
  const payloads = [audio.opusPayloadType];
  if (audio.telephoneEventPayloadType !== undefined) {
    rtp.push({ payload: audio.telephoneEventPayloadType, codec: 'telephone-event', rate: 48000 });
    payloads.push(audio.telephoneEventPayloadType);
  }
  const direction = answerDirection(audio.direction);
  const sends = direction === 'sendrecv' || direction === 'sendonly';
  const first = p.candidates[0];
  const section: MediaDescription = {
    type: 'audio',
    // JSEP §5.3.1 / RFC 8839 §4.2.1.1: m= and c= carry the default candidate.
    port: first ? first.port : 9,
    protocol: audio.protocol,
    payloads: payloads.join(' '),
    connection: first ? { version: ipVer(first), ip: first.address } : { version: 4, ip: '0.0.0.0' },
    rtp,
    // RFC 7587 §7: 20 ms frames; we accept in-band FEC and echo nothing else of the offer's fmtp.
    fmtp: [{ payload: audio.opusPayloadType, config: 'minptime=10;useinbandfec=1' }],
    candidates: [
      ...p.candidates.map((c, i) => ({
        foundation: String(i + 1),
        component: 1,
        transport: 'udp',
        priority: candidatePriority(i, i >= (p.backupFrom ?? Infinity)),
        ip: c.address,
        port: c.port,
        type: 'host',
      })),
      // RFC 6544 §4.5: a passive candidate's port is the one it listens on; its own foundation.
      ...(p.tcpCandidates ?? []).map((c, i) => ({
        foundation: String(p.candidates.length + i + 1),
        component: 1,
        transport: 'tcp',
        priority: tcpCandidatePriority(i),
        ip: c.address,
        port: c.port,
        type: 'host',
        tcptype: 'passive',
      })),
    ],
    // ICE-lite gathers nothing more (RFC 8838 §4.3 end-of-candidates).
    endOfCandidates: 'end-of-candidates',
    iceUfrag: p.iceUfrag,
    icePwd: p.icePwd,
    fingerprint: { type: p.fingerprint.algorithm, hash: p.fingerprint.value },
    setup,
    direction,
    rtcpMux: 'rtcp-mux',
  };
  if (audio.mid !== undefined) section.mid = audio.mid;
  if (sends) {
    section.msid = [{ id: p.streamId, appdata: `${p.streamId}-audio` }];
    section.ssrcs = [{ id: p.ssrc, attribute: 'cname', value: p.cname }];
  }
  return section;
}

/** Builds the answer text (CRLF line ends, as RFC 8866 §5 requires). */
export function buildAnswer(p: AnswerParams): string {
  return writeAnswer(answerDescription(p));
}

/** The answer as sdp-transform's object (what writeAnswer writes). */
export function answerDescription(p: AnswerParams): SessionDescription {
  const setup = answerSetup(p.offer.setup);
  const media: MediaDescription[] = [];
  const total = p.offer.declined.length + 1;
  const audio = audioSection(p, setup);
  const data = acceptsData(p) ? p.offer.data : undefined;
  // One map, not a search per section: answering stays linear in the number of m-sections.
  const declinedAt = new Map(p.offer.declined.map((d) => [d.index, d]));
  for (let i = 0; i < total; i++) {
    if (i === p.offer.audio.index) {
      media.push(audio);
      continue;
    }
    if (data !== undefined && i === data.index) {
      const { port, connection, candidates, endOfCandidates, iceUfrag, icePwd, fingerprint } = audio;
      media.push(
        dataAnswerSection(data, p.dataChannels!, { port, connection, candidates, endOfCandidates, iceUfrag, icePwd, fingerprint, setup }),
      );
      continue;
    }
    const d = declinedAt.get(i);
    if (!d) continue;
    // RFC 8829 §5.3.1: a rejected section keeps its type, protocol and formats, port 0, and its mid.
    const rejected: MediaDescription = {
      type: d.type,
      port: 0,
      protocol: d.protocol,
      payloads: d.formats,
      connection: { version: 4, ip: '0.0.0.0' },
      rtp: [],
      fmtp: [],
    };
    if (d.mid !== undefined) rejected.mid = d.mid;
    media.push(rejected);
  }
  const audioMid = p.offer.audio.mid;
  const bundled = audioMid !== undefined && p.offer.bundleMids.includes(audioMid);
  // In the offer's order (its first mid is the offerer's BUNDLE tag, RFC 8843 §7.2).
  const accepted = p.offer.bundleMids.filter((m) => m === audioMid || m === data?.mid);
  const session: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: p.sessionId, sessionVersion: 2, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    // RFC 8843 §7.3.1: the answer's group lists only the accepted sections that were offered in it.
    groups: bundled ? [{ type: 'BUNDLE', mids: accepted.join(' ') }] : undefined,
    media,
  };
  if (!bundled) delete session.groups;
  return session;
}

/**
 * sdp-transform's write() for exactly the fields answerDescription() sets, in the order its
 * grammar gives them, without its generic walk (every grammar rule tried on every section, a
 * format string per line): ~1 ms of the POST under the profiler, issue #18. The answer SDP tests
 * hold it byte for byte to write() over every kind of answer we build.
 */
export function writeAnswer(s: SessionDescription): string {
  const o = s.origin!;
  const out = [
    `v=${s.version ?? 0}`,
    `o=${o.username} ${o.sessionId} ${Number(o.sessionVersion)} ${o.netType} IP${Number(o.ipVer)} ${o.address}`,
    `s=${s.name ?? ' '}`,
    `t=${Number(s.timing!.start)} ${Number(s.timing!.stop)}`,
  ];
  if (s.icelite != null) out.push(`a=${s.icelite}`);
  for (const g of s.groups ?? []) out.push(`a=group:${g.type} ${g.mids}`);
  for (const m of s.media) writeSection(out, m);
  return out.join('\r\n') + '\r\n';
}

function writeSection(out: string[], m: MediaDescription): void {
  out.push(`m=${m.type} ${Number(m.port)} ${m.protocol} ${m.payloads ?? ''}`);
  if (m.connection) out.push(`c=IN IP${Number(m.connection.version)} ${m.connection.ip}`);
  for (const r of m.rtp) {
    const rate = r.encoding != null ? `/${r.rate}/${r.encoding}` : r.rate ? `/${r.rate}` : '';
    out.push(`a=rtpmap:${Number(r.payload)} ${r.codec}${rate}`);
  }
  for (const f of m.fmtp) out.push(`a=fmtp:${Number(f.payload)} ${f.config}`);
  if (m.setup != null) out.push(`a=setup:${m.setup}`);
  if (m.mid != null) out.push(`a=mid:${m.mid}`);
  for (const x of m.msid ?? []) out.push(`a=msid:${x.id} ${x.appdata}`);
  if (m.direction != null) out.push(`a=${m.direction}`);
  if (m.iceUfrag != null) out.push(`a=ice-ufrag:${m.iceUfrag}`);
  if (m.icePwd != null) out.push(`a=ice-pwd:${m.icePwd}`);
  if (m.fingerprint != null) out.push(`a=fingerprint:${m.fingerprint.type} ${m.fingerprint.hash}`);
  for (const c of m.candidates ?? []) {
    const tcp = c.tcptype != null ? ` tcptype ${c.tcptype}` : '';
    out.push(
      `a=candidate:${c.foundation} ${Number(c.component)} ${c.transport} ${Number(c.priority)} ${c.ip} ${Number(c.port)} typ ${c.type}${tcp}`,
    );
  }
  if (m.endOfCandidates != null) out.push(`a=${m.endOfCandidates}`);
  for (const x of m.ssrcs ?? [])
    out.push(`a=ssrc:${Number(x.id)}${x.attribute != null ? ` ${x.attribute}${x.value != null ? `:${x.value}` : ''}` : ''}`);
  if (m.rtcpMux != null) out.push(`a=${m.rtcpMux}`);
  if (m.sctpmap != null) {
    const mms = m.sctpmap.maxMessageSize != null ? ` ${m.sctpmap.maxMessageSize}` : '';
    out.push(`a=sctpmap:${m.sctpmap.sctpmapNumber} ${m.sctpmap.app}${mms}`);
  }
  if (m.sctpPort != null) out.push(`a=sctp-port:${m.sctpPort}`);
  if (m.maxMessageSize != null) out.push(`a=max-message-size:${m.maxMessageSize}`);
}
