// The `realtime` media handler: an OpenAI-Realtime-protocol model behind every call. Per call the
// (async) factory opens a WebSocket to the model server (`--realtime-url`, `?model=`, bearer key),
// waits for `session.created` and sends `session.update` with both audio formats forced to PCM16
// at 24 kHz; a server that is unreachable, refuses, or closes before that rejects the factory, so
// the POST gets 502. Then it bridges: caller Opus → PCM 24 kHz → `input_audio_buffer.append`
// (≤ 40 ms per message), model `response.output_audio.delta` (24 kHz) → 20 ms Opus frames into
// ctx.send (the call paces them; audio never goes onto the data channel). libopus decodes to and
// encodes from 24 kHz itself (media/opus.ts), so no resampler runs here: measured in one run,
// decode→24k + encode←24k costs 0.7× the 48 kHz codec, where 48 kHz + the half-band both ways cost 1.5×. Other model events go
// to the caller (ctx.sendEvent), client events to the model; barge-in (the client's
// `output_audio_buffer.clear`, or the model's `speech_started` while audio plays) drops the queued
// audio and truncates the model's item at what was really played. Not here: the HTTP front door,
// `oai-events` itself (the call's channel code), the sideband WebSocket.
import { FRAME_MS } from '../../../core/rtp/index.ts';
import WebSocket from 'ws';
import { inlineCodecs } from '../../../media/frame-codec.ts';
import type { FrameCodecs } from '../../../media/frame-codec.ts';
import type { InboundOpusFrame, MediaHandler, MediaHandlerContext, RealtimeEvent } from '../media-handler.ts';
import { WebSocketOutbox } from '../ws-outbox.ts';
import { appendEventBytes, forceAudioFormats, pcm16FromBase64 } from './realtime-events.ts';

export interface RealtimeHandlerOptions {
  /** ws:// or wss:// URL of the model server, e.g. wss://api.openai.com/v1/realtime. */
  readonly url: string;
  /** Sent as `Authorization: Bearer`. */
  readonly apiKey?: string;
  /** Appended as `?model=` (as OpenAI's URL takes it). */
  readonly model?: string;
  /** Connect + `session.created` must happen within this (default 4 s, under the 5 s handler setup deadline). */
  readonly connectTimeoutMs?: number;
  /** Largest WebSocket message accepted from the model (default 4 MiB); a larger one closes the socket. */
  readonly maxMessageBytes?: number;
  /** Caller audio is dropped (and counted) while this much is waiting to go to the model (default 256 KiB). */
  readonly maxBufferedBytes?: number;
  /** Told of each counted drop (a process-wide metric). */
  readonly onDrop?: (reason: RealtimeDropReason) => void;
  /** Where the Opus work runs (default inline, on the event loop; media/codec-pool.ts: worker threads). */
  readonly codecs?: FrameCodecs;
}

/**
 * What the handler drops and counts (parley_transceiver_realtime_drops_total{reason}):
 * caller audio while the model's socket is backed up, an undecodable caller packet, model audio
 * or events it cannot read, and events for the caller that `oai-events` did not take.
 */
export const REALTIME_DROP_REASONS = [
  'input_backpressure',
  'bad_caller_audio',
  'bad_model_audio',
  'bad_model_event',
  'event_not_sent',
] as const;
export type RealtimeDropReason = (typeof REALTIME_DROP_REASONS)[number];

export interface RealtimeMediaHandler extends MediaHandler {
  /** Client events from `oai-events` (calls/oai-events.ts delivers them). */
  onEvent(event: RealtimeEvent): void;
}

const PCM_RATE = 24000;
/** 40 ms of 24 kHz PCM16 per `input_audio_buffer.append`. */
const APPEND_SAMPLES = (PCM_RATE * 40) / 1000;
/** One 20 ms Opus frame's PCM at 24 kHz. */
const FRAME_SAMPLES = (PCM_RATE * FRAME_MS) / 1000;
const MAX_TRUNCATED_ITEMS = 16;
/**
 * Frames of silence sent after a barge-in cut the reply off. A receiver whose packets simply stop
 * conceals the gap by extrapolating the last audio (a browser's NetEq stretched a cut-off tone
 * over ~0.5 s in test/e2e/agents-sdk.test.ts); real silence ends the sound at once. Five, as
 * Discord's voice docs prescribe "to avoid unintended Opus interpolation".
 */
const SILENCE_FRAMES_AFTER_CLEAR = 5;

/**
 * Every call's messages to its model, written together at the end of each event-loop turn (one
 * batch of received packets decodes many calls' frames, then their appends go in one burst).
 * Everything to a model goes through it, so its order is the order the handler asked.
 */
const outbox = new WebSocketOutbox();

/**
 * Where a model audio delta is decoded (1 s of 24 kHz samples, for every call: each delta is
 * copied out into its call's 20 ms frames at once). A fresh 9.6 KB array per 100 ms delta was
 * off-heap memory V8 has to account for and sweep; a longer delta gets an array of its own.
 */
const deltaScratch = new Int16Array(PCM_RATE);

/** Opens the model's WebSocket and resolves once it said `session.created`; rejects with the reason. */
function connect(o: RealtimeHandlerOptions): Promise<WebSocket> {
  const url = new URL(o.url);
  if (o.model !== undefined) url.searchParams.set('model', o.model);
  const timeoutMs = o.connectTimeoutMs ?? 4000;
  const ws = new WebSocket(url, {
    headers: o.apiKey === undefined ? {} : { authorization: `Bearer ${o.apiKey}` },
    maxPayload: o.maxMessageBytes ?? 4 * 1024 * 1024,
    handshakeTimeout: timeoutMs,
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      reject(new Error(`realtime model at ${url.origin}${url.pathname}: ${reason}`));
    };
    const timer = setTimeout(() => fail(`no session.created within ${timeoutMs} ms`), timeoutMs);
    ws.once('unexpected-response', (_req, res) => fail(`refused the WebSocket with HTTP ${res.statusCode}`));
    ws.once('error', (err) => fail(err.message));
    ws.once('close', (code) => fail(`closed (${code}) before session.created`));
    ws.once('message', (data) => {
      let type: unknown;
      try {
        type = (JSON.parse(String(data)) as { type?: unknown }).type;
      } catch {
        type = undefined;
      }
      if (type !== 'session.created') return fail(`sent ${JSON.stringify(type ?? 'non-JSON')} before session.created`);
      clearTimeout(timer);
      ws.removeAllListeners();
      resolve(ws);
    });
  });
}

/** The realtime handler factory (async: it dials the model while the POST is handled). */
export function createRealtimeHandlerFactory(o: RealtimeHandlerOptions): (ctx: MediaHandlerContext) => Promise<RealtimeMediaHandler> {
  return async (ctx) => {
    const ws = await connect(o);
    return bridge(ws, ctx, o);
  };
}

function bridge(ws: WebSocket, ctx: MediaHandlerContext, o: RealtimeHandlerOptions): RealtimeMediaHandler {
  const drop = (reason: RealtimeDropReason): void => o.onDrop?.(reason);
  const maxBuffered = o.maxBufferedBytes ?? 256 * 1024;
  let closed = false;
  // Decode → onCallerPcm and encode → the call's queue, in order, inline or on a worker thread.
  const codec = (o.codecs ?? inlineCodecs).open(
    { sampleRate: PCM_RATE, recovery: false },
    {
      decoded: (pcm) => (pcm === undefined ? drop('bad_caller_audio') : onCallerPcm(pcm)),
      encoded: (opus) => ctx.send(opus),
    },
  );

  const toModel = (event: RealtimeEvent | Record<string, unknown>): void => {
    if (ws.readyState === WebSocket.OPEN) outbox.push(ws, Buffer.from(JSON.stringify(event)));
  };
  const toClient = (event: RealtimeEvent): void => {
    if (!ctx.sendEvent(event)) drop('event_not_sent');
  };
  toModel({ type: 'session.update', session: forceAudioFormats(ctx.request.session) });

  // Caller → model: 40 ms batches of 24 kHz PCM16.
  const input = new Int16Array(APPEND_SAMPLES);
  let inputFill = 0;
  const onCallerPcm = (pcm: Int16Array): void => {
    for (let i = 0; i < pcm.length;) {
      const n = Math.min(pcm.length - i, APPEND_SAMPLES - inputFill);
      input.set(pcm.subarray(i, i + n), inputFill);
      inputFill += n;
      i += n;
      if (inputFill === APPEND_SAMPLES) {
        inputFill = 0;
        if (ws.bufferedAmount > maxBuffered) drop('input_backpressure');
        // As bytes, not a string: one buffer, masked into one frame by ws (no UTF-8 encode of the
        // 2.5 KB JSON text, no two-buffer writev), written after this turn with the others.
        else if (ws.readyState === WebSocket.OPEN) outbox.push(ws, appendEventBytes(input));
      }
    }
  };

  // Model → caller: one response plays at a time; its frames are counted from where they start
  // in the call's output stream, so a truncate can say how much of the item was heard.
  const output = new Int16Array(FRAME_SAMPLES);
  let outputFill = 0;
  let playing: { responseId: string; itemId: string; contentIndex: number; startFrame: number; queued: number } | undefined;
  const truncated = new Set<string>();
  const queueFrame = (): void => {
    codec.encode(output);
    outputFill = 0;
    if (playing) playing.queued++;
  };
  const onModelPcm = (pcm: Int16Array): void => {
    for (let i = 0; i < pcm.length;) {
      const n = Math.min(pcm.length - i, FRAME_SAMPLES - outputFill);
      output.set(pcm.subarray(i, i + n), outputFill);
      outputFill += n;
      i += n;
      if (outputFill === FRAME_SAMPLES) queueFrame();
    }
  };
  const onAudioDelta = (e: Record<string, unknown>): void => {
    const itemId = typeof e.item_id === 'string' ? e.item_id : '';
    const responseId = typeof e.response_id === 'string' ? e.response_id : '';
    if (typeof e.delta !== 'string') return drop('bad_model_audio');
    if (truncated.has(itemId)) return;
    if (playing === undefined || playing.itemId !== itemId) {
      // A new response starts a new buffer; a second item of the same response goes on in it.
      if (playing?.responseId !== responseId) toClient({ type: 'output_audio_buffer.started', response_id: responseId });
      playing = {
        responseId,
        itemId,
        contentIndex: typeof e.content_index === 'number' ? e.content_index : 0,
        startFrame: ctx.framesSent + ctx.queuedFrames + codec.pendingEncodes,
        queued: 0,
      };
    }
    const pcm24 = pcm16FromBase64(e.delta, deltaScratch);
    if (pcm24 === undefined) return drop('bad_model_audio');
    onModelPcm(pcm24);
  };
  const onResponseDone = (e: Record<string, unknown>): void => {
    const response = e.response as { id?: unknown } | undefined;
    const responseId = typeof response?.id === 'string' ? response.id : (playing?.responseId ?? '');
    if (playing === undefined || playing.responseId !== responseId) return;
    if (outputFill > 0) {
      output.fill(0, outputFill);
      queueFrame();
    }
    const ended = playing;
    const settle = (played: boolean): void => {
      if (played && !closed) toClient({ type: 'output_audio_buffer.stopped', response_id: ended.responseId });
      if (playing === ended) playing = undefined;
    };
    // Once its last frame is in the call's queue (a barge-in in between dropped it: not played).
    codec.after((cancelled) => (cancelled ? settle(false) : ctx.mark(settle)));
  };
  const bargeIn = (): void => {
    const p = playing;
    if (p === undefined) return;
    const heardFrames = Math.max(0, Math.min(p.queued, ctx.framesSent - p.startFrame));
    codec.cancelEncodes();
    ctx.clearAudio();
    outputFill = 0;
    playing = undefined;
    output.fill(0);
    for (let i = 0; i < SILENCE_FRAMES_AFTER_CLEAR; i++) codec.encode(output);
    truncated.add(p.itemId);
    // Only the latest items can still stream deltas; the set stays small over a long call.
    if (truncated.size > MAX_TRUNCATED_ITEMS) truncated.delete(truncated.values().next().value!);
    toClient({ type: 'output_audio_buffer.cleared', response_id: p.responseId });
    toModel({ type: 'conversation.item.truncate', item_id: p.itemId, content_index: p.contentIndex, audio_end_ms: heardFrames * FRAME_MS });
  };

  ws.on('message', (data, isBinary) => {
    if (closed) return;
    let event: Record<string, unknown>;
    try {
      event = isBinary ? {} : (JSON.parse(String(data)) as Record<string, unknown>);
    } catch {
      return drop('bad_model_event');
    }
    const type = typeof event?.type === 'string' ? event.type : undefined;
    if (type === undefined) return drop('bad_model_event');
    switch (type) {
      case 'response.output_audio.delta':
      case 'response.audio.delta':
        return onAudioDelta(event);
      case 'response.done':
        toClient(event as RealtimeEvent);
        return onResponseDone(event);
      case 'input_audio_buffer.speech_started':
        toClient(event as RealtimeEvent);
        // Only while the caller can still hear something of the reply.
        if (playing !== undefined && ctx.queuedFrames > 0) bargeIn();
        return;
      // Parley answers the client's session events itself (the FRONT half).
      case 'session.created':
      case 'session.updated':
        return;
      default:
        return toClient(event as RealtimeEvent);
    }
  });
  ws.on('error', () => {
    /* 'close' follows with the code; the error itself is in the close reason */
  });
  ws.on('close', (code, reason) => {
    if (closed) return;
    const detail = `${code}${reason.length ? ` ${String(reason)}` : ''}`;
    toClient({
      type: 'error',
      error: { type: 'server_error', code: 'agent_closed', message: `the model closed the connection (${detail})` },
    });
    ctx.hangup('agent_closed', detail);
  });

  return {
    onAudio(frame: InboundOpusFrame): void {
      if (!closed) codec.decode('packet', frame.payload);
    },
    onEvent(event: RealtimeEvent): void {
      if (closed) return;
      if (event.type === 'output_audio_buffer.clear') return bargeIn();
      if (event.type === 'session.update') {
        const session = (event.session ?? {}) as Record<string, unknown>;
        return toModel({ ...event, session: forceAudioFormats(session) });
      }
      toModel(event);
    },
    close(): void {
      if (closed) return;
      closed = true;
      // What this call asked to send goes before the close frame.
      outbox.flush();
      ws.close(1000, 'call ended');
      // A peer that never answers the close handshake is not waited for.
      const t = setTimeout(() => ws.terminate(), 2000);
      t.unref();
      ws.once('close', () => clearTimeout(t));
      codec.close();
    },
  };
}
