// A test-only media handler for the data-channel interop tests (RFC 8832 in the direction the
// echo handler never takes): Parley opens a channel toward the peer and Parley closes it.
// Loaded into `parley dev`'s transceiver as a handler module; the peer (a browser page, Pion,
// aiortc) runs the other half:
//   1. Parley opens `parley` (reliable, ordered) as soon as the call has a data channel; once it
//      is open Parley sends the text `hello`.
//   2. Every message the peer sends on `parley` comes back byte-exact, text as text, bytes as
//      bytes (sizes as the peer chooses, up to the negotiated maximum).
//   3. The text `close` asks Parley to close `parley` (a stream reset started by our side); the
//      peer must see its channel close.
// Audio and the peer's own channels are echoed as by the echo handler, so the rest of each
// interop test runs unchanged beside this.
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import type { HandlerChannel, MediaHandler, MediaHandlerContext } from '../../src/transceiver/handlers/media-handler.ts';
import type { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';

/** The handler's name in `?handler=`. */
export const PARLEY_CHANNEL_HANDLER = 'parley-channel';
/** The label of the channel Parley opens. */
export const PARLEY_CHANNEL_LABEL = 'parley';

export const createParleyChannelHandler = (ctx: MediaHandlerContext): MediaHandler => {
  const echo = createEchoHandler(ctx);
  // Opened inside the factory: it stays `connecting` until SCTP is up, then says hello.
  if (ctx.dataChannels) {
    const ours: HandlerChannel = ctx.openChannel({ label: PARLEY_CHANNEL_LABEL, ordered: true });
    ours.onOpen = () => {
      ours.send('hello');
    };
    ours.onMessage = (data) => {
      if (data === 'close') ours.close();
      else ours.send(data);
    };
  }
  return {
    onAudio: (frame) => echo.onAudio(frame),
    onChannel: (ch) => echo.onChannel!(ch),
    close: () => echo.close(),
  };
};

/** Handler-module entry (`parley dev --handler-module test/e2e/parley-channel-handler.ts`). */
export default function register(handlers: HandlerRegistry): void {
  handlers.register(PARLEY_CHANNEL_HANDLER, createParleyChannelHandler);
}
