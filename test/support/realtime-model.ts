// A Realtime-protocol test model: a `ws` server on 127.0.0.1 speaking the GA event names, each
// event checked against the `openai` package's types (a renamed event fails typecheck). It
// answers each second of caller audio (`input_audio_buffer.append`, PCM16 24 kHz) with a
// response carrying a tone — response.created, output_item.added, output_audio.delta chunks
// (streamed faster than real time), output_audio_transcript.delta/done, response.done — and
// measures the frequency of the caller's tone in that second (so tests can check it survived
// the resampling). While its reply would still be playing, caller audio that starts after
// silence gets input_audio_buffer.speech_started; response.create gets a response too. It records every client event, and can be
// told to close every connection (a model that goes away mid-call). For benchmarks it can talk
// back to back (every second answered, replies queued behind each other: 50 frames/s of model
// audio all call long), stop answering after the first N seconds of a connection (`?answer_s=N`
// on the URL, so every reply has played before the caller hangs up), and counts the 20 ms frames
// it sent and heard, so a benchmark can count frames lost. For tests and benchmarks only.
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type {
  ConversationItemTruncateEvent,
  InputAudioBufferSpeechStartedEvent,
  RealtimeClientEvent,
  RealtimeServerEvent,
  ResponseAudioDeltaEvent,
  ResponseAudioTranscriptDeltaEvent,
  ResponseAudioTranscriptDoneEvent,
  ResponseCreatedEvent,
  ResponseDoneEvent,
  ResponseOutputItemAddedEvent,
  SessionCreatedEvent,
} from 'openai/resources/realtime/realtime';
import { analyzeTone, rms } from '../../src/media/analysis.ts';
import { generateTone } from '../../src/media/tone.ts';
import { pcm16FromBase64, pcm16ToBase64 } from '../../src/transceiver/handlers/realtime/realtime-events.ts';

export interface RealtimeModelOptions {
  /** The reply tone, Hz (default 660). */
  readonly replyHz?: number;
  /** How long each reply plays, ms (default 600). */
  readonly replyMs?: number;
  /** Audio per output_audio.delta, ms (default 100). */
  readonly chunkMs?: number;
  /** Answer at most this many seconds per connection (default: every one). */
  readonly maxResponses?: number;
  /** Port on 127.0.0.1 (default 0: any free one). */
  readonly port?: number;
  /** Record client events, heard seconds and truncates (default true; a long benchmark run turns it off). */
  readonly keepEvents?: boolean;
  /** Refuse the WebSocket upgrade with this HTTP status. */
  readonly refuseWith?: number;
  /**
   * Answer every second of caller audio, even while the last reply still plays (its audio is
   * scheduled after it): a model that talks all call long, for benchmarks (default false: a second
   * that ends while a reply plays is not answered).
   */
  readonly backToBack?: boolean;
  /** Told when a connection closes (the server process prints its counts then). */
  readonly onConnectionClose?: () => void;
}

/** What the model sent and heard, in 20 ms frames of 24 kHz audio, over every connection. */
export interface RealtimeModelCounts {
  readonly framesSent: number;
  readonly framesHeard: number;
  readonly open: number;
}

export interface HeardSecond {
  readonly connection: number;
  readonly frequency: number;
  readonly rms: number;
}

export interface RealtimeModel {
  readonly url: string;
  /** Every client event by connection, in order (appends without their audio). */
  readonly events: { readonly connection: number; readonly event: RealtimeClientEvent }[];
  /** The caller's tone, measured over each second of appended audio. */
  readonly heard: HeardSecond[];
  readonly truncates: (ConversationItemTruncateEvent & { readonly connection: number; readonly receivedAt: number })[];
  /** When each speech_started went out (Date.now()). */
  readonly speechStarted: { readonly connection: number; readonly at: number }[];
  readonly connections: number;
  readonly open: number;
  counts(): RealtimeModelCounts;
  /** Closes every open connection (code 1011, as a crashing model would). */
  closeConnections(code?: number): void;
  close(): Promise<void>;
}

const RATE = 24000;
const FRAME_SAMPLES = RATE / 50;
const SILENCE_RMS = 0.003;

type ServerEvent = RealtimeServerEvent;

export async function startRealtimeModel(o: RealtimeModelOptions = {}): Promise<RealtimeModel> {
  const replyHz = o.replyHz ?? 660;
  const replyMs = o.replyMs ?? 600;
  const chunkMs = o.chunkMs ?? 100;
  const keep = o.keepEvents ?? true;
  // Every reply is the same tone (phase 0 each time): its base64 deltas are made once, not per
  // reply — this process shares the load generator's CPU in benchmarks.
  const reply = generateTone(replyMs, { frequency: replyHz, amplitude: 0.4, sampleRate: RATE });
  const replySamples = reply.length;
  const chunk = (RATE * chunkMs) / 1000;
  const replyDeltas: string[] = [];
  for (let at = 0; at < reply.length; at += chunk) replyDeltas.push(pcm16ToBase64(reply.subarray(at, Math.min(reply.length, at + chunk))));
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: o.port ?? 0,
    maxPayload: 1024 * 1024,
    verifyClient: (_info, done) => (o.refuseWith === undefined ? done(true) : done(false, o.refuseWith, 'refused by the test model')),
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as { port: number }).port;
  const events: RealtimeModel['events'] = [];
  const heard: HeardSecond[] = [];
  const truncates: RealtimeModel['truncates'] = [];
  const speechStarted: RealtimeModel['speechStarted'] = [];
  const sockets = new Set<WebSocket>();
  let connections = 0;
  let samplesSent = 0;
  let samplesHeard = 0;

  wss.on('connection', (ws, req) => {
    const connection = ++connections;
    sockets.add(ws);
    ws.on('close', () => {
      sockets.delete(ws);
      o.onConnectionClose?.();
    });
    // ?answer_s=N: answer only the first N seconds of caller audio on this connection.
    const answerS = Number(new URL(req.url ?? '/', 'http://model').searchParams.get('answer_s') ?? Infinity);
    let secondsHeard = 0;
    ws.on('error', () => {});
    let seq = 0;
    const id = (prefix: string): string => `${prefix}_${connection}_${++seq}`;
    const send = (e: ServerEvent): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(e));
    };
    send({
      type: 'session.created',
      event_id: id('event'),
      session: { type: 'realtime', object: 'realtime.session', id: id('sess'), model: 'parley-test-model' },
    } as SessionCreatedEvent);

    const second = new Int16Array(RATE);
    let fill = 0;
    let playingUntil = 0;
    let callerWasSilent = true;
    let responses = 0;
    const respond = (): void => {
      if (++responses > (o.maxResponses ?? Infinity)) return;
      const responseId = id('resp');
      const itemId = id('item');
      send({
        type: 'response.created',
        event_id: id('event'),
        response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [] },
      } satisfies ResponseCreatedEvent);
      send({
        type: 'response.output_item.added',
        event_id: id('event'),
        response_id: responseId,
        output_index: 0,
        item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
      } satisfies ResponseOutputItemAddedEvent);
      samplesSent += replySamples;
      for (const delta of replyDeltas) {
        send({
          type: 'response.output_audio.delta',
          event_id: id('event'),
          response_id: responseId,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta,
        } satisfies ResponseAudioDeltaEvent);
      }
      const text = `a ${replyHz} Hz tone`;
      const ids = { event_id: id('event'), response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 };
      send({ type: 'response.output_audio_transcript.delta', ...ids, delta: text } satisfies ResponseAudioTranscriptDeltaEvent);
      send({
        type: 'response.output_audio_transcript.done',
        ...ids,
        event_id: id('event'),
        transcript: text,
      } satisfies ResponseAudioTranscriptDoneEvent);
      send({
        type: 'response.done',
        event_id: id('event'),
        response: { id: responseId, object: 'realtime.response', status: 'completed' },
      } satisfies ResponseDoneEvent);
      playingUntil = (o.backToBack ? Math.max(Date.now(), playingUntil) : Date.now()) + replyMs;
    };
    const onCallerAudio = (pcm: Int16Array): void => {
      const level = rms(pcm);
      const speaking = level > SILENCE_RMS;
      if (speaking && callerWasSilent && Date.now() < playingUntil) {
        send({
          type: 'input_audio_buffer.speech_started',
          event_id: id('event'),
          audio_start_ms: 0,
          item_id: id('item'),
        } satisfies InputAudioBufferSpeechStartedEvent);
        speechStarted.push({ connection, at: Date.now() });
        playingUntil = 0;
      }
      callerWasSilent = !speaking;
      samplesHeard += pcm.length;
      for (let i = 0; i < pcm.length;) {
        const n = Math.min(pcm.length - i, RATE - fill);
        second.set(pcm.subarray(i, i + n), fill);
        fill += n;
        i += n;
        if (fill === RATE) {
          fill = 0;
          // The tone analysis (an FFT per second per call) only feeds `heard`, which a benchmark does not keep.
          if (keep) {
            const a = analyzeTone(second, { sampleRate: RATE });
            heard.push({ connection, frequency: a.purity > 0.5 ? a.frequency : 0, rms: a.rms });
          }
          if (++secondsHeard <= answerS && (o.backToBack || Date.now() >= playingUntil)) respond();
        }
      }
    };

    ws.on('message', (data) => {
      let event: RealtimeClientEvent;
      try {
        event = JSON.parse(String(data)) as RealtimeClientEvent;
      } catch {
        return;
      }
      if (event.type === 'input_audio_buffer.append') {
        if (keep) events.push({ connection, event: { ...event, audio: '' } });
        const pcm = pcm16FromBase64(event.audio) ?? new Int16Array(0);
        return onCallerAudio(pcm);
      }
      if (keep) events.push({ connection, event });
      if (keep && event.type === 'conversation.item.truncate') truncates.push({ ...event, connection, receivedAt: Date.now() });
      // A client (or a sideband) asking for a response gets one, as from a second of audio.
      if (event.type === 'response.create') respond();
    });
  });

  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    events,
    heard,
    truncates,
    speechStarted,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    counts: () => ({
      framesSent: Math.floor(samplesSent / FRAME_SAMPLES),
      framesHeard: Math.floor(samplesHeard / FRAME_SAMPLES),
      open: sockets.size,
    }),
    closeConnections(code = 1011): void {
      for (const ws of sockets) ws.close(code, 'test model closed');
    },
    async close(): Promise<void> {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
