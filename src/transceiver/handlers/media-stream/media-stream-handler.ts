// The `media-stream` handler: every call bridged to an agent that speaks the Twilio Media
// Streams protocol (docs/agents.md), so an agent written for Twilio works unchanged. Per call the
// (async) factory dials `--media-stream-url` with PARLEY_MEDIA_STREAM_HEADERS and resolves once
// the WebSocket is open (else the POST gets 502). Then: `connected`, `start` (streamSid, callSid =
// the call id, tracks, customParameters from the request, mediaFormat), one `media` per 20 ms
// frame of the caller (µ-law 8 kHz or L16 16/24 kHz, through the PCM handler layer: jitter
// buffer, concealment, resampling), `dtmf` per key, `mark` when playback reached (or `clear`
// dropped) a mark the agent sent, `stop` when the call ends; the agent's `media` of any length is
// re-framed to 20 ms, `clear` flushes at once. The agent closing the socket ends the call
// (agent_closed, its close reason told to the caller on `oai-events`). Everything is bounded:
// message size, messages per second, bytes waiting to go to the agent, pending marks, queue.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { dialWebSocket } from '../dial.ts';
import { mulawDecode, mulawEncode } from '../../../media/mulaw.ts';
import type { DtmfEvent, MediaHandlerFactory, RealtimeEvent } from '../media-handler.ts';
import { pcmHandler } from '../pcm.ts';
import type { PcmDropReason, PcmFrameInfo, PcmHandler, PcmHandlerContext } from '../pcm.ts';
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
  /** Told of each counted drop (a process-wide metric). */
  readonly onDrop?: (reason: MediaStreamDropReason) => void;
}

export type MediaStreamDropReason =
  | PcmDropReason
  | 'agent_backpressure'
  | 'bad_agent_message'
  | 'bad_agent_audio'
  | 'agent_rate_limited'
  | 'too_many_marks'
  | 'event_not_sent';

/** How long the caller's `oai-events` has to carry the agent's close reason before the call ends. */
const HANGUP_GRACE_MS = 250;

/** The FRONT helper's context member (sendEvent), read only where it exists. */
interface FrontMembers {
  sendEvent?(event: RealtimeEvent): boolean;
}

/** Opens the agent's WebSocket; resolves once open, rejects with the reason (the POST then gets 502). */
function dial(o: MediaStreamHandlerOptions): Promise<WebSocket> {
  return dialWebSocket(new URL(o.url), {
    headers: o.headers,
    maxPayload: o.maxMessageBytes ?? 1024 * 1024,
    timeoutMs: o.connectTimeoutMs ?? 4000,
    what: 'media-stream agent',
  });
}

export function createMediaStreamHandlerFactory(o: MediaStreamHandlerOptions): MediaHandlerFactory {
  const format = o.format ?? 'mulaw';
  const fmt = mediaFormat(format);
  return pcmHandler({ sampleRate: fmt.sampleRate, onDrop: o.onDrop }, async (ctx) => bridge(await dial(o), ctx, o, format));
}

function bridge(ws: WebSocket, ctx: PcmHandlerContext, o: MediaStreamHandlerOptions, format: MediaStreamFormat): PcmHandler {
  const drop = (reason: MediaStreamDropReason): void => o.onDrop?.(reason);
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

  const send = (message: Record<string, unknown>): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    sequence++;
    ws.send(JSON.stringify({ event: message.event, sequenceNumber: String(sequence), ...message, streamSid }));
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

  const toAgentAudio = (pcm: Int16Array): string =>
    format === 'mulaw' ? mulawEncode(pcm).toString('base64') : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
  const fromAgentAudio = (bytes: Buffer): Int16Array | undefined => {
    if (format === 'mulaw') return mulawDecode(bytes);
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
    if (overRate()) return drop('agent_rate_limited');
    if (isBinary) return drop('bad_agent_message');
    const m = readAgentMessage(String(data));
    switch (m.event) {
      case 'media': {
        const pcm = fromAgentAudio(m.payload);
        if (pcm === undefined) return drop('bad_agent_audio');
        ctx.write(pcm);
        return;
      }
      case 'mark':
        if (pendingMarks >= maxMarks) return drop('too_many_marks');
        pendingMarks++;
        // Twilio answers a mark when its audio has played, and also when `clear` dropped it.
        ctx.mark(() => {
          pendingMarks--;
          if (!closed) send({ event: 'mark', mark: { name: m.name } });
        });
        return;
      case 'clear':
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
    const why = reason.length > 0 ? ` ${String(reason).slice(0, 123)}` : '';
    const event = {
      type: 'error',
      error: { type: 'server_error', code: 'agent_closed', message: `the agent closed the connection (${code}${why})` },
    };
    if (front.sendEvent === undefined || !front.sendEvent(event)) {
      drop('event_not_sent');
      return ctx.hangup('agent_closed');
    }
    // The call's end aborts its data channels: give the event a moment to leave first.
    const t = setTimeout(() => {
      if (!closed) ctx.hangup('agent_closed');
    }, HANGUP_GRACE_MS);
    t.unref();
  });
  // dial() left the socket paused: listeners first, then what the agent said.
  ws.resume();

  return {
    onPcm(pcm: Int16Array, info: PcmFrameInfo): void {
      if (closed || ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > maxBuffered) return drop('agent_backpressure');
      send({
        event: 'media',
        media: { track: 'inbound', chunk: String(info.index + 1), timestamp: String(info.index * 20), payload: toAgentAudio(pcm) },
      });
    },
    onDtmf(event: DtmfEvent): void {
      if (!closed) send({ event: 'dtmf', dtmf: { track: 'inbound_track', digit: event.digit } });
    },
    close(): void {
      if (closed) return;
      send({ event: 'stop', stop: { accountSid, callSid: ctx.callId } });
      closed = true;
      // Agents may keep the socket open after `stop`: Parley closes it, and does not wait long.
      ws.close(1000, 'call ended');
      const t = setTimeout(() => ws.terminate(), 2000);
      t.unref();
      ws.once('close', () => clearTimeout(t));
    },
  };
}
