// The public shapes of a ClientCall: its states, the events it queues, and its stats (the
// `--json` summary of `parley call` is built from ClientCallStats). Types only.
import type { TransportAddress } from '../core/address.ts';
import type { DataChannelEvent } from '../core/datachannel/index.ts';
import type { RtcpPacket } from '../core/rtp/index.ts';
import type { SrtpProfileName } from '../core/srtp/index.ts';
import type { ClientError } from './errors.ts';

/** new → connecting (answer taken) → connected (DTLS done, SRTP keyed) → closed | failed. */
export type ClientCallState = 'new' | 'connecting' | 'connected' | 'closed' | 'failed';

export type ClientCallEvent =
  | { readonly type: 'ice-connected'; readonly remote: TransportAddress }
  | { readonly type: 'connected'; readonly srtpProfile: SrtpProfileName }
  /** One received Opus packet (only with deliverAudio). */
  | { readonly type: 'audio'; readonly payload: Buffer; readonly sequence: number; readonly timestamp: number; readonly receivedAt: number }
  /** One compound RTCP packet from the server (its SR or RR about our stream, SDES, BYE when it hangs up). */
  | { readonly type: 'rtcp'; readonly packets: readonly RtcpPacket[] }
  /** A data channel opened, closed or carried a message, or the association ended (src/core/peer/peer-data.ts). */
  | { readonly type: 'datachannel'; readonly event: DataChannelEvent }
  /** A key press from the server (RFC 4733 telephone-event), once per press, at its first packet. */
  | { readonly type: 'dtmf'; readonly digit: string; readonly timestamp: number; readonly receivedAt: number }
  /** Every frame asked for has been sent. */
  | { readonly type: 'sending-done' }
  | { readonly type: 'failed'; readonly error: ClientError };

export interface ClientCallStats {
  readonly state: ClientCallState;
  readonly error: { readonly code: string; readonly message: string } | undefined;
  readonly dtlsRole: 'client' | 'server' | undefined;
  readonly srtpProfile: SrtpProfileName | undefined;
  /** The selected pair's remote address (the relay's public address). */
  readonly remoteAddress: string | undefined;
  /** From acceptAnswer to ICE connected, ms. */
  readonly iceMs: number | undefined;
  /** From ICE connected to DTLS connected, ms. */
  readonly dtlsMs: number | undefined;
  /** Clock value when DTLS completed. */
  readonly connectedAt: number | undefined;
  readonly packetsSent: number;
  /** Frames not sent because this process stalled > 500 ms (CPU starvation, GC): client-side, not network. */
  readonly framesSkipped: number;
  /** Opus payload bytes. */
  readonly bytesSent: number;
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  /** RFC 3550 A.3: highest extended sequence − first + 1. */
  readonly packetsExpected: number;
  readonly packetsLost: number;
  readonly lossFraction: number;
  /** RFC 3550 A.8 interarrival jitter of the incoming stream, ms. */
  readonly jitterMs: number;
  /** SRTP/SRTCP packets that failed authentication or replay checks. */
  readonly srtpDropped: number;
  readonly firstReceiveAt: number | undefined;
  readonly lastReceiveAt: number | undefined;
  /** RTCP RTT when the server sent report blocks, else the STUN consent round trip. */
  readonly rttMs: number | undefined;
  readonly rttSource: 'rtcp' | 'stun' | undefined;
  readonly stunRttMs: number | undefined;
  readonly rtcpRttMs: number | undefined;
  /** Mean time from sending a frame to receiving the same payload back (echo handler), ms. */
  readonly echoRttMs: number | undefined;
}
