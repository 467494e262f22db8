// The default handler: whatever the caller says comes straight back. Each inbound Opus packet
// is queued unchanged (no decode/encode, so no added delay or quality loss); the session
// restamps sequence and timestamp and paces it at 20 ms. Every data-channel message comes back
// on the channel it came from, text as text and bytes as bytes (a message the call's send
// buffer cannot take is dropped and counted). OpenAI Realtime events on `oai-events` are not
// echoed: Parley answers session.update itself (calls/oai-events.ts) and echo has no onEvent, so
// other client events are dropped — echoing them would send client events back as server events.
// It is a loopback test, not an agent.
import type { HandlerChannel, InboundOpusFrame, MediaHandler, MediaHandlerContext } from './media-handler.ts';

export const createEchoHandler = (ctx: MediaHandlerContext): MediaHandler => {
  let closed = false;
  return {
    onAudio(frame: InboundOpusFrame): void {
      if (closed) return;
      // Copy: the receive path may reuse its packet buffers once onAudio returns, and the
      // session keeps this packet queued for up to a second.
      ctx.send(Buffer.from(frame.payload));
    },
    onChannel(channel: HandlerChannel): void {
      // SCTP hands over a message that nothing else holds: it is queued back as it is.
      channel.onMessage = (data) => {
        if (!closed) channel.send(data);
      };
    },
    close(): void {
      closed = true;
    },
  };
};
