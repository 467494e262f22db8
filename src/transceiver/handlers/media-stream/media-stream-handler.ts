// The `media-stream` handler: every call bridged to an agent that speaks the Twilio Media
// Streams protocol (docs/agents.md), so an agent written for Twilio works unchanged. Per call the
// (async) factory dials `--media-stream-url` with PARLEY_MEDIA_STREAM_HEADERS and resolves once
// the WebSocket is open (else the POST gets 502). Then: `connected`, `start` (streamSid, callSid =
// the call id, tracks, customParameters from the request, mediaFormat), one `media` per 20 ms
// frame of the caller (µ-law 8 kHz or L16 16/24 kHz, through the PCM handler layer: jitter
// buffer, concealment, resampling), `dtmf` per key, `mark` when playback reached (or `clear`
// dropped) a mark the agent sent, `stop` when the call ends; the agent's `media` of any length is
// re-framed to 20 ms, `clear` flushes at once. The agent closing the socket ends the call
// (agent_closed, its close code and reason told to the caller on `oai-events` and kept as the
// call's close detail). Everything is bounded:
// message size, messages per second, bytes waiting to go to the agent, pending marks, queue.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { CounterChild } from '../../../common/metrics.ts';
import type { FrameCodecs } from '../../../media/frame-codec.ts';
import { DialError, dialWebSocket } from '../dial.ts';
import type { DialFailure } from '../dial.ts';
import { mulawDecode, mulawEncode } from '../../../media/mulaw.ts';
import type { DtmfEvent, MediaHandlerFactory, RealtimeEvent } from '../media-handler.ts';
import { PCM_DROP_REASONS, pcmHandler } from '../pcm.ts';
import type { PcmDropReason, PcmFrameInfo, PcmHandler, PcmHandlerContext } from '../pcm.ts';
import { WebSocketOutbox } from '../ws-outbox.ts';
import { customParameters, mediaFormat, readAgentMessage } from './media-stream-messages.ts';
import type { MediaStreamFormat } from './media-stream-messages.ts';

export interface MediaStreamHandlerOptions {
  /** ws:// or wss:// URL of the agent. */
  readonly url: string;
  /** Extra headers on the WebSocket upgrade (e.g. Authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Audio format on the socket (default mulaw: audio/x-mulaw 8 kHz, as Twilio). */
  readonly format?: MediaStreamFormat;
  /** start.accountSid (default AC + 32 zeros: there is no account). */
  readonly accountSid?: string;
  /** The WebSocket must be open within this (default 4 s, under the 5 s handler setup deadline). */
  readonly connectTimeoutMs?: number;
  /** Largest message accepted from the agent (default 1 MiB); a larger one closes the socket (1009). */
  readonly maxMessageBytes?: number;
  /** Caller audio is dropped (counted) while this much waits to go to the agent (default 256 KiB). */
  readonly maxBufferedBytes?: number;
  /** Agent messages per second beyond this are dropped and counted (default 1000). */
  readonly maxMessagesPerSecond?: number;
  /** Marks waiting for playback at once (default 1000); more are dropped and counted. */
  readonly maxPendingMarks?: number;
  /** Process-wide counters (transceiver-metrics.ts mediaStreamMetrics); each call also keeps its own for GET. */
  readonly metrics?: MediaStreamCounters;
  /** Where the Opus work runs (default inline, on the event loop; media/codec-pool.ts: worker threads). */
  readonly codecs?: FrameCodecs;
}

/** Everything the bridge drops, each counted: the PCM layer's, then the bridge's own. */
export const MEDIA_STREAM_DROP_REASONS = [
  ...PCM_DROP_REASONS,
  'agent_backpressure', // caller audio not sent: 256 KiB already wait to go to a slow agent
  'bad_agent_message', // binary frames, non-JSON, unknown shapes
  'bad_agent_audio', // media whose payload is not whole samples
  'agent_rate_limited', // past maxMessagesPerSecond
  'too_many_marks', // past maxPendingMarks
  'event_not_sent', // the agent's close reason could not go to the caller's oai-events
] as const;
export type MediaStreamDropReason = (typeof MEDIA_STREAM_DROP_REASONS)[number];
/** What the agent asked for and Parley did, counted: marks taken, marks echoed back (played or cleared), clears. */
export const MEDIA_STREAM_ACTIONS = ['mark_received', 'mark_sent', 'clear'] as const;
export type MediaStreamAction = (typeof MEDIA_STREAM_ACTIONS)[number];
export const MEDIA_STREAM_DIRECTIONS = ['to_agent', 'from_agent'] as const;
export type MediaStreamDirection = (typeof MEDIA_STREAM_DIRECTIONS)[number];

/** The process-wide counters the bridge adds to (made by transceiver-metrics.ts, one child per label up front). */
export interface MediaStreamCounters {
  readonly messages: Readonly<Record<MediaStreamDirection, CounterChild>>;
  readonly bytes: Readonly<Record<MediaStreamDirection, CounterChild>>;
  readonly drops: Readonly<Record<MediaStreamDropReason, CounterChild>>;
  readonly actions: Readonly<Record<MediaStreamAction, CounterChild>>;
  readonly dialFailures: Readonly<Record<DialFailure, CounterChild>>;
}

function isPcmDrop(reason: MediaStreamDropReason): reason is PcmDropReason {
  return (PCM_DROP_REASONS as readonly string[]).includes(reason);
}

/** Every call's messages to its agent, written together at the end of each event-loop turn. */
const outbox = new WebSocketOutbox();

/** How long the caller's `oai-events` has to carry the agent's close reason before the call ends. */
const HANGUP_GRACE_MS = 250;

/** The FRONT helper's context member (sendEvent), read only where it exists. */
interface FrontMembers {
  sendEvent?(event: RealtimeEvent): boolean;
}

/** Opens the agent's WebSocket; resolves once open, rejects with the reason (the POST then gets 502). */
async function dial(o: MediaStreamHandlerOptions): Promise<WebSocket> {
  try {
    return await dialWebSocket(new URL(o.url), {
      headers: o.headers,
      maxPayload: o.maxMessageBytes ?? 1024 * 1024,
      timeoutMs: o.connectTimeoutMs ?? 4000,
      what: 'media-stream agent',
    });
  } catch (err) {
    o.metrics?.dialFailures[err instanceof DialError ? err.reason : 'network'].inc();
    throw err;
  }
}

export function createMediaStreamHandlerFactory(o: MediaStreamHandlerOptions): MediaHandlerFactory {
  const format = o.format ?? 'mulaw';
  const fmt = mediaFormat(format);
  // The PCM layer's drops are this call's too (GET shows them under pcmDrops) and the metric's.
  const onDrop = o.metrics && ((reason: PcmDropReason) => o.metrics!.drops[reason].inc());
  return pcmHandler({ sampleRate: fmt.sampleRate, onDrop, codecs: o.codecs }, async (ctx) => bridge(await dial(o), ctx, o, format));
}

/** Bytes of one message as ws delivers it (a Buffer for text frames; the other shapes for binary). */
function rawLength(data: WebSocket.RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
}

function bridge(ws: WebSocket, ctx: PcmHandlerContext, o: MediaStreamHandlerOptions, format: MediaStreamFormat): PcmHandler {
  const m = o.metrics;
  // This call's counts (GET stats.handler); the process-wide ones are bumped beside them.
  const count = {
    messagesToAgent: 0,
    bytesToAgent: 0,
    messagesFromAgent: 0,
    bytesFromAgent: 0,
    marksReceived: 0,
    marksSent: 0,
    clears: 0,
  };
  const drops = Object.fromEntries(MEDIA_STREAM_DROP_REASONS.filter((r) => !isPcmDrop(r)).map((r) => [r, 0])) as Record<string, number>;
  const drop = (reason: MediaStreamDropReason): void => {
    drops[reason]++;
    m?.drops[reason].inc();
  };
  const act = (action: MediaStreamAction): void => {
    if (action === 'mark_received') count.marksReceived++;
    else if (action === 'mark_sent') count.marksSent++;
    else count.clears++;
    m?.actions[action].inc();
  };
  const front = ctx as PcmHandlerContext & FrontMembers;
  const fmt = mediaFormat(format);
  const maxBuffered = o.maxBufferedBytes ?? 256 * 1024;
  const maxPerSecond = o.maxMessagesPerSecond ?? 1000;
  const maxMarks = o.maxPendingMarks ?? 1000;
  const streamSid = `MZ${randomBytes(16).toString('hex')}`;
  const accountSid = o.accountSid ?? `AC${'0'.repeat(32)}`;
  let sequence = 0;
  let pendingMarks = 0;
  let closed = false;
  let windowStart = performance.now();
  let windowCount = 0;

  const sendBytes = (bytes: Buffer): void => {
    outbox.push(ws, bytes);
    count.messagesToAgent++;
    count.bytesToAgent += bytes.length;
    m?.messages.to_agent.inc();
    m?.bytes.to_agent.inc(bytes.length);
  };
  const send = (message: Record<string, unknown>): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    sequence++;
    sendBytes(Buffer.from(JSON.stringify({ event: message.event, sequenceNumber: String(sequence), ...message, streamSid })));
  };
  // `media`, 50 per second: the same JSON as send() would make (same keys, same order), written
  // by hand — every value is digits, base64 or the hex streamSid, none needs escaping.
  const mediaTail = `"},"streamSid":"${streamSid}"}`;
  const sendMedia = (index: number, payload: string): void => {
    sequence++;
    const text = `{"event":"media","sequenceNumber":"${sequence}","media":{"track":"inbound","chunk":"${index + 1}","timestamp":"${index * 20}","payload":"${payload}${mediaTail}`;
    sendBytes(Buffer.from(text, 'latin1'));
  };
  send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  send({
    event: 'start',
    start: {
      accountSid,
      streamSid,
      callSid: ctx.callId,
      tracks: ['inbound'],
      customParameters: customParameters(ctx.request.query, ctx.request.session),
      mediaFormat: fmt,
    },
  });

  // Scratch for µ-law each way (ctx.write copies what it is given): one 20 ms frame out, up to
  // 250 ms in one agent message before a longer one gets an array of its own.
  const codesOut = Buffer.allocUnsafe(fmt.sampleRate / 50);
  const samplesIn = new Int16Array(fmt.sampleRate / 4);
  const toAgentAudio = (pcm: Int16Array): string =>
    format === 'mulaw'
      ? mulawEncode(pcm, pcm.length <= codesOut.length ? codesOut : undefined).toString('base64')
      : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
  const fromAgentAudio = (bytes: Buffer): Int16Array | undefined => {
    if (format === 'mulaw') return mulawDecode(bytes, bytes.length <= samplesIn.length ? samplesIn : undefined);
    if (bytes.length % 2 !== 0) return undefined;
    // L16 little-endian, as Twilio's wideband streams: copy into an aligned array.
    const pcm = new Int16Array(bytes.length / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(2 * i);
    return pcm;
  };

  const overRate = (): boolean => {
    const now = performance.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      windowCount = 0;
    }
    return ++windowCount > maxPerSecond;
  };

  ws.on('message', (data, isBinary) => {
    if (closed) return;
    const bytes = rawLength(data);
    count.messagesFromAgent++;
    count.bytesFromAgent += bytes;
    m?.messages.from_agent.inc();
    m?.bytes.from_agent.inc(bytes);
    if (overRate()) return drop('agent_rate_limited');
    if (isBinary) return drop('bad_agent_message');
    const msg = readAgentMessage(String(data));
    switch (msg.event) {
      case 'media': {
        const pcm = fromAgentAudio(msg.payload);
        if (pcm === undefined) return drop('bad_agent_audio');
        ctx.write(pcm);
        return;
      }
      case 'mark':
        if (pendingMarks >= maxMarks) return drop('too_many_marks');
        pendingMarks++;
        act('mark_received');
        // Twilio answers a mark when its audio has played, and also when `clear` dropped it.
        ctx.mark(() => {
          pendingMarks--;
          if (closed) return;
          send({ event: 'mark', mark: { name: msg.name } });
          act('mark_sent');
        });
        return;
      case 'clear':
        act('clear');
        ctx.flush();
        return;
      case 'ignored':
        return;
      case 'invalid':
        return drop('bad_agent_message');
    }
  });
  ws.on('error', () => {
    /* 'close' follows with the code */
  });
  ws.on('close', (code, reason) => {
    if (closed) return;
    // The close code and the agent's reason text become the call's close detail (GET, log, page).
    const detail = `${code}${reason.length > 0 ? ` ${String(reason).slice(0, 123)}` : ''}`;
    const event = {
      type: 'error',
      error: { type: 'server_error', code: 'agent_closed', message: `the agent closed the connection (${detail})` },
    };
    if (front.sendEvent === undefined || !front.sendEvent(event)) {
      drop('event_not_sent');
      return ctx.hangup('agent_closed', detail);
    }
    // The call's end aborts its data channels: give the event a moment to leave first.
    const t = setTimeout(() => {
      if (!closed) ctx.hangup('agent_closed', detail);
    }, HANGUP_GRACE_MS);
    t.unref();
  });
  // dial() left the socket paused: listeners first, then what the agent said.
  ws.resume();

  return {
    stats: () => ({ ...count, drops: { ...drops } }),
    onPcm(pcm: Int16Array, info: PcmFrameInfo): void {
      if (closed || ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > maxBuffered) return drop('agent_backpressure');
      sendMedia(info.index, toAgentAudio(pcm));
    },
    onDtmf(event: DtmfEvent): void {
      if (!closed) send({ event: 'dtmf', dtmf: { track: 'inbound_track', digit: event.digit } });
    },
    close(): void {
      if (closed) return;
      send({ event: 'stop', stop: { accountSid, callSid: ctx.callId } });
      closed = true;
      outbox.flush();
      // Agents may keep the socket open after `stop`: Parley closes it, and does not wait long.
      ws.close(1000, 'call ended');
      const t = setTimeout(() => ws.terminate(), 2000);
      t.unref();
      ws.once('close', () => clearTimeout(t));
    },
  };
}
