// Wraps a handler so that nothing it throws reaches the session: the seam's contract says
// handlers must not throw, and this is how the session can enforce it in one place. Each
// error is reported to `onError` (for a metric and a log line) with the method that threw;
// a throwing factory yields a handler that does nothing. close() runs at most once.
// An async factory (one that dials its agent) yields a handler that does nothing until the
// promise settles; `ready` says how it went, so the call registry can refuse the POST (502).
import type {
  DtmfEvent,
  HandlerChannel,
  HandlerStats,
  InboundOpusFrame,
  MediaHandler,
  MediaHandlerContext,
  MediaHandlerFactory,
  RealtimeEvent,
} from './media-handler.ts';
import type { PullMediaHandler } from './pull.ts';

/** Handler methods and channel callbacks (the channel's are contained by the call's channels). */
export type HandlerMethod =
  | 'create'
  | 'onAudio'
  | 'onDtmf'
  | 'pull'
  | 'close'
  | 'onChannel'
  | 'onEvent'
  | 'onOpen'
  | 'onMessage'
  | 'onBufferedAmountLow'
  | 'onClose'
  | 'mark'
  | 'stats';
export type HandlerErrorListener = (method: HandlerMethod, err: unknown) => void;

/**
 * The wrapped handler. It always has pull() (so callers need no narrowing), but `pulls` says
 * whether the inner handler really produces audio on demand; canPull() honours it, so a
 * session does not tick every 20 ms for a push-only handler such as echo.
 */
export interface ContainedHandler extends PullMediaHandler {
  readonly pulls: boolean;
  /** Settles when the factory did: rejects with its error (a sync factory's throw is contained instead). */
  readonly ready: Promise<void>;
  /** The factory returned a promise (it dials its agent): only then is there anything to wait for in `ready`. */
  readonly async: boolean;
  pull(): Buffer | undefined;
  onChannel(channel: HandlerChannel): void;
  onEvent(event: RealtimeEvent): void;
  onDtmf(event: DtmfEvent): void;
  /** The inner handler's stats(), or undefined when it has none (or it threw: reported as 'stats'). */
  readStats(): HandlerStats | undefined;
}

export function containHandler(factory: MediaHandlerFactory, ctx: MediaHandlerContext, onError: HandlerErrorListener): ContainedHandler {
  const report = (method: HandlerMethod, err: unknown): void => {
    try {
      onError(method, err);
    } catch {
      /* a failing listener must not undo the containment */
    }
  };
  let inner: PullMediaHandler | undefined;
  let closed = false;
  let ready = Promise.resolve();
  let async = false;
  try {
    const made = factory(ctx);
    if (isPromise(made)) {
      async = true;
      ready = made.then((handler) => {
        // The call ended (or the POST was refused) while the agent was dialled: close what came.
        if (closed) handler.close();
        else inner = handler;
      });
      // The registry awaits `ready`; this stops an unawaited rejection from being reported twice.
      ready.catch(() => {});
    } else inner = made as PullMediaHandler;
  } catch (err) {
    report('create', err);
  }
  return {
    ready,
    async,
    get pulls(): boolean {
      return typeof inner?.pull === 'function';
    },
    onAudio(frame: InboundOpusFrame): void {
      if (closed || inner === undefined) return;
      try {
        inner.onAudio(frame);
      } catch (err) {
        report('onAudio', err);
      }
    },
    onChannel(channel: HandlerChannel): void {
      if (closed || inner?.onChannel === undefined) return;
      try {
        inner.onChannel(channel);
      } catch (err) {
        report('onChannel', err);
      }
    },
    onDtmf(event: DtmfEvent): void {
      if (closed || inner?.onDtmf === undefined) return;
      try {
        inner.onDtmf(event);
      } catch (err) {
        report('onDtmf', err);
      }
    },
    onEvent(event: RealtimeEvent): void {
      if (closed || inner?.onEvent === undefined) return;
      try {
        inner.onEvent(event);
      } catch (err) {
        report('onEvent', err);
      }
    },
    readStats(): HandlerStats | undefined {
      if (inner?.stats === undefined) return undefined;
      try {
        return inner.stats();
      } catch (err) {
        report('stats', err);
        return undefined;
      }
    },
    pull(): Buffer | undefined {
      if (closed || inner?.pull === undefined) return undefined;
      try {
        const packet = inner.pull();
        return Buffer.isBuffer(packet) && packet.length > 0 ? packet : undefined;
      } catch (err) {
        report('pull', err);
        return undefined;
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        inner?.close();
      } catch (err) {
        report('close', err);
      }
    },
  };
}

function isPromise(value: MediaHandler | Promise<MediaHandler>): value is Promise<PullMediaHandler> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
