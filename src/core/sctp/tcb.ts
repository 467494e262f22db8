// The Transmission Control Block (RFC 9260 §14): what exists only once both verification tags
// are agreed — the peer's tag, the negotiated stream counts, the send and receive sides and the
// stream reset state — built from a State Cookie's parameters (ours or the peer's INIT-ACK).
// Not here: the association's state machine (association.ts).
import type { CookieState } from './cookie.ts';
import type { ResolvedOptions } from './options.ts';
import { Receiver } from './receiver.ts';
import type { Rto } from './rto.ts';
import type { SendBuffer } from './send-buffer.ts';
import { Sender } from './sender.ts';
import { StreamReset } from './stream-reset.ts';
import type { SctpEvent, SctpStats } from './types.ts';

export interface Tcb {
  peerTag: number;
  inboundStreams: number;
  outboundStreams: number;
  sender: Sender;
  receiver: Receiver;
  reset: StreamReset;
}

export interface TcbContext {
  o: ResolvedOptions;
  rto: Rto;
  sendBuffer: SendBuffer;
  stats: SctpStats;
  events: SctpEvent[];
}

export function makeTcb(c: CookieState, x: TcbContext): Tcb {
  const { o, stats, events } = x;
  const receiver = new Receiver({
    peerInitialTsn: c.peerInitialTsn,
    inboundStreams: c.inboundStreams,
    maxBytes: o.maxReassemblyBytes,
    maxMessageSize: o.maxMessageSize,
    budget: o.budget,
    delayedAckMs: o.delayedAckMs,
    minSackIntervalMs: o.minSackIntervalMs,
    mtu: o.mtu,
    stats,
  });
  const sender = new Sender({
    mtu: o.mtu,
    initialTsn: c.localInitialTsn,
    peerARwnd: c.peerARwnd,
    peerForwardTsn: c.peerForwardTsn,
    rto: x.rto,
    delayControl: o.delayControl,
    buffer: x.sendBuffer,
    stats,
  });
  const reset = new StreamReset(
    {
      cumTsn: () => receiver.tracker.cumTsn,
      resetIncoming: (streamIds) => {
        receiver.reassembly.resetStreams(streamIds);
        events.push({ type: 'stream_reset', streamIds });
      },
      outgoingDone: (streamIds, ok) => {
        if (ok) sender.resetSsns(streamIds);
        events.push({ type: 'stream_reset_done', streamIds, ok });
      },
    },
    c.localInitialTsn,
    c.peerInitialTsn,
  );
  return { peerTag: c.peerTag, inboundStreams: c.inboundStreams, outboundStreams: c.outboundStreams, sender, receiver, reset };
}
