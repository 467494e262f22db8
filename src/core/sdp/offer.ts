// Reads a WebRTC SDP offer (RFC 8866 syntax, JSEP RFC 8829 semantics) into the few facts the
// transceiver answers from: the first audio section with Opus, the client's ICE credentials and
// DTLS fingerprint, its DTLS role preference, the data-channel section (./datachannel.ts), and
// which other sections must be declined.
// It is not the answer builder (answer.ts) and it never throws on input: it returns an SdpError.
// Parsing is sdp-transform's; this module adds the checks that package leaves out (it accepts
// any text), so a client sending garbage hears what is wrong instead of getting a broken answer.
import { sdpFieldParser } from './parse.ts';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { findDataOffer } from './datachannel.ts';
import type { DataOffer } from './datachannel.ts';
import { SdpError, SdpErrorCode } from './errors.ts';
import { DEFAULT_SDP_LIMITS, checkSdpLimits } from './limits.ts';
import type { SdpLimits } from './limits.ts';

export type SetupRole = 'actpass' | 'active' | 'passive';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** An offered m-section we decline (port 0 in the answer, RFC 8829 §5.3.1). */
export interface DeclinedSection {
  readonly index: number;
  readonly type: string;
  readonly protocol: string;
  /** The section's format list as offered, echoed in the answer's m= line. */
  readonly formats: string;
  readonly mid: string | undefined;
}

export interface AudioOffer {
  /** Position of the section among the offer's m= lines; the answer keeps the same order. */
  readonly index: number;
  readonly mid: string | undefined;
  readonly protocol: string;
  /** The offer's payload type for opus/48000/2 (RFC 7587 §7); the answer echoes it. */
  readonly opusPayloadType: number;
  /** telephone-event/48000 (RFC 4733), when offered. */
  readonly telephoneEventPayloadType: number | undefined;
  readonly direction: Direction;
}

export interface OfferSummary {
  readonly audio: AudioOffer;
  /** Every section but the audio one (the answer declines them, except `data` when it takes it). */
  readonly declined: readonly DeclinedSection[];
  /** The data-channel section we can take (RFC 8841; in the audio section's BUNDLE group), if offered. */
  readonly data: DataOffer | undefined;
  /** The client's ICE credentials (RFC 8839 §5.4), session- or media-level. */
  readonly iceUfrag: string;
  readonly icePwd: string;
  /** RFC 8122 §5: hash function name as offered (lower case) and the colon-hex value. */
  readonly fingerprint: { readonly algorithm: string; readonly value: string };
  readonly setup: SetupRole;
  /** The mids of the offer's BUNDLE group (RFC 8843), empty when it offered none. */
  readonly bundleMids: readonly string[];
  readonly origin: { readonly sessionId: string; readonly sessionVersion: number };
}

export type OfferResult = { ok: true; offer: OfferSummary } | { ok: false; error: SdpError };

/** RFC 8866 §5: every line is `<type>=<value>` with a one-letter type. */
const LINE = /^[a-z]=/;
/** RFC 8839 §5.4: ice-char, ufrag 4..256 chars, pwd 22..256 chars. */
const ICE_CHARS = /^[A-Za-z0-9+/]+$/;
/** RFC 8122 §5: hash = "sha-1" / "sha-224" / "sha-256" / "sha-384" / "sha-512" / … ; value = 2UHEX *(":" 2UHEX). */
const FINGERPRINT_VALUE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/;
// Every browser sends sha-256 (RFC 8827 §6.5 requires it be supported); our DTLS checks sha-1 (old
// peers), sha-384 and sha-512 too, telling them apart by digest length (core/dtls/certificate.ts).
const SUPPORTED_HASHES = new Set(['sha-1', 'sha-256', 'sha-384', 'sha-512']);

function fail(code: SdpErrorCode, message: string): OfferResult {
  return { ok: false, error: new SdpError(code, message) };
}

/** Lines of the offer, or a reason it is not SDP. Chrome sends CRLF; tolerate bare LF too. */
function checkSyntax(text: string): string | undefined {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return 'the body is empty';
  if (lines[0] !== 'v=0') return `the first line must be "v=0" (RFC 8866 §5.1), not ${JSON.stringify(lines[0].slice(0, 40))}`;
  for (const [i, line] of lines.entries()) {
    if (!LINE.test(line)) return `line ${i + 1} is not "<letter>=<value>": ${JSON.stringify(line.slice(0, 60))}`;
  }
  for (const required of ['o=', 's=', 't=']) {
    if (!lines.some((l) => l.startsWith(required))) return `the required "${required}" line is missing (RFC 8866 §5)`;
  }
  if (!lines.some((l) => l.startsWith('m='))) return 'there is no m= line (no media is offered)';
  return undefined;
}

function sectionMid(m: MediaDescription): string | undefined {
  // sdp-transform turns `a=mid:0` into the number 0.
  return m.mid === undefined ? undefined : String(m.mid);
}

function formats(m: MediaDescription): string {
  return m.payloads === undefined ? '' : String(m.payloads);
}

function findOpus(m: MediaDescription): number | undefined {
  // RFC 7587 §7: the encoding name is "opus", the clock rate 48000 and channels 2, always.
  const hit = m.rtp.find((r) => r.codec.toLowerCase() === 'opus' && r.rate === 48000 && r.encoding === 2);
  return hit?.payload;
}

function findTelephoneEvent(m: MediaDescription): number | undefined {
  return m.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 48000)?.payload;
}

function usableAudio(m: MediaDescription): boolean {
  // A port of 0 marks a section the offerer itself rejects (RFC 8866 §5.14), except
  // bundle-only sections (RFC 8843 §7.2), which Chrome does not send for audio but others may.
  return m.type === 'audio' && (m.port !== 0 || m.bundleOnly !== undefined);
}

/**
 * Every field summarizeOffer() and findDataOffer() read, at session and media level (sdp-transform's
 * names). The offer is parsed for these alone: the lines that set nothing else — candidates,
 * extmap, ssrc, rtcp-fb, fmtp, msid: half of a browser's offer — are not parsed (issue #18).
 */
export const OFFER_FIELDS: readonly string[] = [
  'origin',
  'groups',
  'type',
  'port',
  'protocol',
  'payloads',
  'mid',
  'rtp',
  'rtcpMux',
  'bundleOnly',
  'iceUfrag',
  'icePwd',
  'fingerprint',
  'setup',
  'direction',
  'sctpPort',
  'sctpmap',
  'maxMessageSize',
];
const parseOffer = sdpFieldParser(OFFER_FIELDS);

/** Summarises an offer; never throws. Limits are checked before any parsing (./limits.ts). */
export function analyzeOffer(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): OfferResult {
  const over = checkSdpLimits(text, limits);
  if (over !== undefined) return fail(SdpErrorCode.tooLarge, over);
  const syntax = checkSyntax(text);
  if (syntax) return fail(SdpErrorCode.unparsable, `not a valid SDP offer: ${syntax}`);
  let sdp: SessionDescription;
  try {
    sdp = parseOffer(text);
  } catch (err) {
    return fail(SdpErrorCode.unparsable, `not a valid SDP offer: ${(err as Error).message}`);
  }
  return summarizeOffer(sdp);
}

/**
 * The checks and the summary of a parsed offer (parseSdp's result, or one with at least
 * OFFER_FIELDS: the same result from either, test/core/sdp/offer-fields-parse.test.ts).
 */
export function summarizeOffer(sdp: SessionDescription): OfferResult {
  if (!Array.isArray(sdp.media) || sdp.media.length === 0) return fail(SdpErrorCode.unparsable, 'not a valid SDP offer: no m= line');

  const audioSections = sdp.media.map((m, index) => ({ m, index })).filter(({ m }) => usableAudio(m));
  if (audioSections.length === 0) {
    return fail(SdpErrorCode.noAudio, 'the offer has no audio m-line; Parley serves voice calls (add an audio transceiver)');
  }
  const withOpus = audioSections.find(({ m }) => findOpus(m) !== undefined);
  if (!withOpus) {
    const offered = audioSections[0].m.rtp.map((r) => `${r.codec}/${r.rate ?? '?'}`).join(', ') || 'none';
    return fail(SdpErrorCode.noOpus, `the audio m-line offers no opus/48000/2 (offered: ${offered})`);
  }
  const { m: audio, index } = withOpus;

  // RFC 8827 §6.5 / RFC 8829 §5.1.2: WebRTC media is DTLS-SRTP over the SAVPF profile. Some
  // clients (SIP-ish stacks behind OpenAI-compatible SDKs) offer plain SAVP: the same DTLS-SRTP
  // media without RTCP feedback, which we do not need; the answer echoes the offer's profile.
  if (!/^UDP\/TLS\/RTP\/SAVPF?$/i.test(audio.protocol)) {
    return fail(
      SdpErrorCode.unsupported,
      `the audio m-line uses ${audio.protocol}; only UDP/TLS/RTP/SAVPF or SAVP (DTLS-SRTP) is supported`,
    );
  }
  // Every packet of a call arrives on one relay port, so RTP and RTCP must share it (RFC 8035).
  if (audio.rtcpMux === undefined) {
    return fail(SdpErrorCode.unsupported, 'the audio m-line lacks a=rtcp-mux; Parley needs RTP and RTCP multiplexed (RFC 8035)');
  }

  const ufrag = audio.iceUfrag ?? sdp.iceUfrag;
  const pwd = audio.icePwd ?? sdp.icePwd;
  if (ufrag === undefined || pwd === undefined) return fail(SdpErrorCode.incomplete, 'the offer has no a=ice-ufrag / a=ice-pwd');
  if (ufrag.length < 4 || ufrag.length > 256 || !ICE_CHARS.test(ufrag)) {
    return fail(SdpErrorCode.unparsable, 'a=ice-ufrag must be 4..256 ice-chars [A-Za-z0-9+/] (RFC 8839 §5.4)');
  }
  if (pwd.length < 22 || pwd.length > 256 || !ICE_CHARS.test(pwd)) {
    return fail(SdpErrorCode.unparsable, 'a=ice-pwd must be 22..256 ice-chars [A-Za-z0-9+/] (RFC 8839 §5.4)');
  }

  const fp = audio.fingerprint ?? sdp.fingerprint;
  if (!fp) return fail(SdpErrorCode.incomplete, 'the offer has no a=fingerprint (RFC 8122); DTLS-SRTP needs it');
  const algorithm = fp.type.toLowerCase();
  if (!FINGERPRINT_VALUE.test(fp.hash))
    return fail(SdpErrorCode.unparsable, 'a=fingerprint value is not colon-separated hex (RFC 8122 §5)');
  if (!SUPPORTED_HASHES.has(algorithm)) {
    return fail(SdpErrorCode.unsupported, `a=fingerprint uses ${fp.type}; supported: ${[...SUPPORTED_HASHES].join(', ')}`);
  }

  // RFC 8842 §5.2: an offer must say actpass; accept active/passive too (RFC 4145 §4.1), and
  // treat a missing attribute as actpass, its default for offers in RFC 5763 §5.
  const setupText = (audio.setup ?? sdp.setup ?? 'actpass').toLowerCase();
  if (setupText !== 'actpass' && setupText !== 'active' && setupText !== 'passive') {
    return fail(SdpErrorCode.unsupported, `a=setup:${setupText} cannot be answered (RFC 8842 §5: actpass, active or passive)`);
  }

  const direction = (audio.direction ?? sdp.direction ?? 'sendrecv') as Direction;
  const declined: DeclinedSection[] = sdp.media
    .map((m, i) => ({ m, i }))
    .filter(({ i }) => i !== index)
    .map(({ m, i }) => ({ index: i, type: m.type, protocol: m.protocol, formats: formats(m), mid: sectionMid(m) }));
  const bundle = sdp.groups?.find((g) => g.type.toUpperCase() === 'BUNDLE');
  const bundleMids = bundle
    ? String(bundle.mids)
        .split(/\s+/)
        .filter((s) => s !== '')
    : [];

  return {
    ok: true,
    offer: {
      audio: {
        index,
        mid: sectionMid(audio),
        protocol: audio.protocol,
        opusPayloadType: findOpus(audio) as number,
        telephoneEventPayloadType: findTelephoneEvent(audio),
        direction,
      },
      declined,
      data: findDataOffer(sdp.media, sectionMid(audio), bundleMids),
      iceUfrag: ufrag,
      icePwd: pwd,
      fingerprint: { algorithm, value: fp.hash.toUpperCase() },
      setup: setupText,
      bundleMids,
      origin: { sessionId: String(sdp.origin?.sessionId ?? ''), sessionVersion: Number(sdp.origin?.sessionVersion ?? 0) },
    },
  };
}
