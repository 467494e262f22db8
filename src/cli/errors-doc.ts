// docs/errors.md, generated: every error code and every drop reason of Parley, from the
// catalogs each area defines once (STYLE.md rule 14; src/core/errors.ts says how). The relay's
// drop reasons are a plain list with a comment per reason in src/relay/stats.ts; their meanings
// are read from those comments. test/errors-doc.test.ts fails when docs/errors.md differs from
// what this renders. `npm run docs:errors` rewrites it.
import { readFileSync, writeFileSync } from 'node:fs';
import type { CatalogEntry } from '../core/errors.ts';
import { DATACHANNEL_DROPS, DATACHANNEL_ERRORS } from '../core/datachannel/index.ts';
import { DTLS_DROPS, DTLS_ERRORS } from '../core/dtls/index.ts';
import { SCTP_DROPS, SCTP_ERRORS } from '../core/sctp/index.ts';
import { ICE_CHECK_DROPS, ICE_CLIENT_RESULTS, ICE_ERRORS, ICE_LITE_RESULTS } from '../core/ice/index.ts';
import { RTP_ERRORS, RTP_PARSE_DROPS } from '../core/rtp/index.ts';
import { SDP_ERRORS } from '../core/sdp/index.ts';
import { SRTP_DROPS, SRTP_ERRORS } from '../core/srtp/index.ts';
import { STUN_ERRORS } from '../core/stun/index.ts';
import { PEER_DROP_REASONS } from '../core/peer/index.ts';
import { KEYRING_ERRORS, TOKEN_REJECTION_REASONS } from '../core/token/index.ts';
import { CONFIG_ERRORS } from '../common/config-error.ts';
import { CLIENT_ERRORS } from '../client/errors.ts';
import { MEDIA_ERRORS } from '../media/errors.ts';
import { DROP_REASONS as RELAY_DROP_REASONS, REMOVAL_REASONS as RELAY_REMOVAL_REASONS } from '../relay/stats.ts';
import { CALL_REFUSAL_REASONS } from '../transceiver/calls/call-types.ts';
import { ENDPOINT_DROPS } from '../transceiver/media/drop-reasons.ts';
import { ADMISSION_REFUSALS } from '../transceiver/http/admission-limits.ts';
import { HANDLER_ERRORS } from '../transceiver/handlers/errors.ts';
import { SIGNALING_ERRORS } from '../transceiver/http/signaling-errors.ts';

/** One table of docs/errors.md. */
export interface ErrorDocSection {
  readonly title: string;
  /** Where the list is defined (a path under src/). */
  readonly source: string;
  /** Where a user or operator meets these values (a sentence). */
  readonly seen: string;
  readonly entries: readonly CatalogEntry[];
}

const RELAY_STATS = new URL('../relay/stats.ts', import.meta.url);

/** The relay's drop (or flow removal) reasons with the comment each carries in its list (`'reason', // meaning`). */
export function relayDropReasons(
  source = readFileSync(RELAY_STATS, 'utf8'),
  reasons: readonly string[] = RELAY_DROP_REASONS,
): CatalogEntry[] {
  return reasons.map((value) => {
    const line = source.split('\n').find((l) => l.trimStart().startsWith(`'${value}',`));
    return { value, meaning: line?.split('//')[1]?.trim() ?? '' };
  });
}

export function errorCodeSections(): ErrorDocSection[] {
  return [
    {
      title: 'STUN',
      source: 'src/core/stun/errors.ts',
      seen: 'A `StunDecodeError`, returned (never thrown) by `decodeStun`.',
      entries: STUN_ERRORS.entries,
    },
    {
      title: 'SDP',
      source: 'src/core/sdp/errors.ts',
      seen: 'An `SdpError` from the offer analysis; the signaling API answers it as `ERR_SIGNALING_BAD_SDP` or `ERR_SIGNALING_SDP_NOT_ACCEPTABLE`.',
      entries: SDP_ERRORS.entries,
    },
    {
      title: 'RTP',
      source: 'src/core/rtp/errors.ts',
      seen: 'An `RtpParseError`, returned by the RTP and RTCP parsers: one code per parse reason (below).',
      entries: RTP_ERRORS.entries,
    },
    {
      title: 'SRTP',
      source: 'src/core/srtp/errors.ts',
      seen: 'An `SrtpError` (returned on receive, thrown on send: one code per SRTP reason, below), or an `SrtpKeyError`.',
      entries: SRTP_ERRORS.entries,
    },
    {
      title: 'DTLS',
      source: 'src/core/dtls/errors.ts',
      seen: 'The `failed` event of `DtlsEndpoint` (a `DtlsFailure`), or a `DtlsError` thrown for API misuse.',
      entries: DTLS_ERRORS.entries,
    },
    {
      title: 'SCTP',
      source: 'src/core/sctp/errors.ts',
      seen: 'The `closed` event of `SctpAssociation` (a `SctpFailure`), or a `SctpError` thrown for API misuse ([datachannels.md](datachannels.md)).',
      entries: SCTP_ERRORS.entries,
    },
    {
      title: 'Data channels',
      source: 'src/core/datachannel/types.ts',
      seen: 'A `DataChannelError` thrown by `DataChannels` for API misuse.',
      entries: DATACHANNEL_ERRORS.entries,
    },
    {
      title: 'ICE',
      source: 'src/core/ice/errors.ts',
      seen: "An `IceError` for bad options; the controlling client's `failed` event carries the check codes.",
      entries: ICE_ERRORS.entries,
    },
    {
      title: 'Keyring',
      source: 'src/core/token/errors.ts',
      seen: 'A `KeyringError` from `Keyring.parse`; a process reports it as `ERR_CONFIG_BAD_KEYS`, naming it.',
      entries: KEYRING_ERRORS.entries,
    },
    {
      title: 'Media',
      source: 'src/media/errors.ts',
      seen: 'A `MediaError` from the Opus, WAV and tone helpers.',
      entries: MEDIA_ERRORS.entries,
    },
    {
      title: 'Client',
      source: 'src/client/errors.ts',
      seen: 'A `ClientError`: `parley call` prints it and `--json` carries the code; `parley load` counts failures by it.',
      entries: CLIENT_ERRORS.entries,
    },
    {
      title: 'Signaling',
      source: 'src/transceiver/http/signaling-errors.ts',
      seen: 'The signaling API\'s error bodies `{"error":{"code","message"}}` ([signaling.md](signaling.md)).',
      entries: SIGNALING_ERRORS.entries,
    },
    {
      title: 'Handler',
      source: 'src/transceiver/handlers/errors.ts',
      seen: 'A `HandlerError` from the media-handler registry and the built-in handlers.',
      entries: HANDLER_ERRORS.entries,
    },
    {
      title: 'Config',
      source: 'src/common/config-error.ts',
      seen: 'A `ConfigError`: the process prints it and exits 2.',
      entries: CONFIG_ERRORS.entries,
    },
  ];
}

export function dropReasonSections(): ErrorDocSection[] {
  return [
    { title: 'Relay', source: 'src/relay/stats.ts', seen: 'Counted in `parley_relay_drops_total{reason}`.', entries: relayDropReasons() },
    {
      title: 'Relay flow removals',
      source: 'src/relay/stats.ts',
      seen: 'Flows the per-token limits remove, counted in `parley_relay_flows_removed_total{reason}`.',
      entries: relayDropReasons(undefined, RELAY_REMOVAL_REASONS),
    },
    {
      title: 'Transceiver endpoint',
      source: 'src/transceiver/media/drop-reasons.ts',
      seen: 'Counted in `parley_transceiver_drops_total{reason}`.',
      entries: ENDPOINT_DROPS.entries,
    },
    {
      title: 'Call refusals',
      source: 'src/transceiver/calls/call-types.ts',
      seen: 'Why the call registry refuses an offer: counted in `parley_transceiver_calls_rejected_total{reason}`, answered as `ERR_SIGNALING_UNKNOWN_HANDLER`, `ERR_SIGNALING_BAD_SDP`, `ERR_SIGNALING_SDP_NOT_ACCEPTABLE`.',
      entries: CALL_REFUSAL_REASONS.entries,
    },
    {
      title: 'Admission refusals',
      source: 'src/transceiver/http/admission-limits.ts',
      seen: 'Why an offer got 429 `ERR_SIGNALING_TOO_MANY_REQUESTS` (per client: source IP or IPv6 /64, and API key): counted in `parley_transceiver_admission_refused_total{reason}`.',
      entries: ADMISSION_REFUSALS.entries,
    },
    {
      title: 'Audio peer (a call)',
      source: 'src/core/peer/errors.ts',
      seen: 'Told to `AudioPeerOptions.onDrop`; the transceiver counts them in `parley_transceiver_session_drops_total{reason}`.',
      entries: PEER_DROP_REASONS.entries,
    },
    {
      title: 'ICE-lite results',
      source: 'src/core/ice/errors.ts',
      seen: 'Counted in `parley_transceiver_ice_checks_total{result}` and `IceLiteAgent.stats`.',
      entries: ICE_LITE_RESULTS.entries,
    },
    {
      title: 'DTLS records',
      source: 'src/core/dtls/errors.ts',
      seen: 'Counted in `parley_transceiver_dtls_drops_total{reason}` and `DtlsEndpoint.drops`.',
      entries: DTLS_DROPS.entries,
    },
    {
      title: 'SRTP',
      source: 'src/core/srtp/errors.ts',
      seen: 'The `reason` of an `SrtpError`; a transceiver session counts them as `srtp_<reason>`.',
      entries: SRTP_DROPS.entries,
    },
    {
      title: 'RTP parse',
      source: 'src/core/rtp/errors.ts',
      seen: 'The `reason` of an `RtpParseError`; a transceiver session counts them as `malformed`.',
      entries: RTP_PARSE_DROPS.entries,
    },
    { title: 'SCTP packets', source: 'src/core/sctp/errors.ts', seen: 'Counted in `SctpAssociation.drops`.', entries: SCTP_DROPS.entries },
    {
      title: 'Data channel messages',
      source: 'src/core/datachannel/types.ts',
      seen: 'Counted in `DataChannels.drops`.',
      entries: DATACHANNEL_DROPS.entries,
    },
    {
      title: 'ICE check',
      source: 'src/core/ice/errors.ts',
      seen: 'The `drop` verdict of `checkBindingRequest`, shared by both ICE agents.',
      entries: ICE_CHECK_DROPS.entries,
    },
    {
      title: 'ICE controlling client',
      source: 'src/core/ice/errors.ts',
      seen: 'Counted in `IceControllingClient.stats` (`parley call`, `parley load`).',
      entries: ICE_CLIENT_RESULTS.entries,
    },
    {
      title: 'Routing token',
      source: 'src/core/token/errors.ts',
      seen: 'The `reason` of `open()`; `parley token inspect` prints it, and the relay drops the packet.',
      entries: TOKEN_REJECTION_REASONS.entries,
    },
  ];
}

function table(s: ErrorDocSection, head: string): string[] {
  const cell = (t: string): string => t.replace(/\|/g, '\\|');
  const withStatus = s.entries.some((e) => e.status !== undefined);
  const rows = s.entries.map((e) =>
    withStatus ? `| \`${e.value}\` | ${e.status ?? ''} | ${cell(e.meaning)} |` : `| \`${e.value}\` | ${cell(e.meaning)} |`,
  );
  return [
    `### ${s.title}`,
    '',
    `Defined in \`${s.source}\`. ${s.seen}`,
    '',
    withStatus ? `| ${head} | HTTP status | Meaning |` : `| ${head} | Meaning |`,
    withStatus ? '|---|---|---|' : '|---|---|',
    ...rows,
    '',
  ];
}

/** The whole of docs/errors.md. */
export function renderErrorsMarkdown(): string {
  return [
    '# Errors and drop reasons',
    '',
    '<!-- Generated by src/cli/errors-doc.ts from the catalogs (`npm run docs:errors`); test/errors-doc.test.ts keeps it equal. Do not edit by hand. -->',
    '',
    'Parley spells each kind of failure one way:',
    '',
    '- **Error codes** are `ERR_<AREA>_<REASON>`. An error that crosses a module boundary is a typed',
    '  `ParleyError` subclass carrying one in `code`; callers branch on the code, never on the message.',
    '- **Drop reasons** are snake_case. A hot path that refuses a datagram returns one instead of',
    '  throwing, and every one is counted (metric label values, [metrics.md](metrics.md)); so are the',
    "  other reasons metrics count by (an ICE check's result, why an offer was refused).",
    '',
    'Each area defines its codes and reasons once, with the meanings below, in its own catalog',
    '(`src/core/errors.ts`: `errorCatalog()`, `reasonCatalog()`). Arguments no packet can carry (an',
    'encoder asked for a 17-byte transaction id) are RangeError or TypeError: bugs of the caller.',
    '',
    '## Error codes',
    '',
    ...errorCodeSections().flatMap((s) => table(s, 'Code')),
    '## Drop reasons',
    '',
    ...dropReasonSections().flatMap((s) => table(s, 'Reason')),
  ].join('\n');
}

if (import.meta.main) {
  writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsMarkdown());
}
