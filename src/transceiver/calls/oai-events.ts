// OpenAI Realtime events on the caller's `oai-events` data channel, for every handler (OpenAI's
// WebRTC API: the browser opens `oai-events` and speaks JSON events on it). Parley owns that
// channel: when it opens Parley sends `session.created`; a `session.update` is merged into
// request.session and answered with `session.updated`; every other well-formed event goes to the
// handler's onEvent(); a malformed one (not JSON, not an object, no string `type`, too large, too
// deep) or one past the per-call rate is answered with an `error` event and counted — never a
// dropped call. ctx.sendEvent() is the server → client direction: queued (bounded) until the
// channel opens. Sidebands (a server's WebSocket on the call, http/sideband.ts) see the same
// stream: every server event the caller gets, and their own events reach the handler as the
// caller's do (session.update merged, answered to all). Not here: the channels themselves (call-channels.ts), the session object's shape
// (realtime-front/session-object.ts), what an agent does with events (the handler).
import { KeyedTokenBuckets } from '../../core/rate-limit.ts';
import type { Rng } from '../../core/rng.ts';
import type { CallRequest, HandlerChannel, RealtimeEvent } from '../handlers/media-handler.ts';
import { isJsonObject, parseJsonObject } from '../realtime-front/json-limits.ts';
import type { JsonObject } from '../realtime-front/json-limits.ts';
import { realtimeSessionObject } from '../realtime-front/session-object.ts';

export const OAI_EVENTS_LABEL = 'oai-events';
/** Server events held until the channel opens. */
export const MAX_QUEUED_EVENTS = 256;
/** A client event's text (input_audio_buffer.append of a few seconds fits); larger ones are refused. */
export const MAX_CLIENT_EVENT_BYTES = 256 * 1024;
/** Client events per call: a steady rate and a burst; past it each event is answered with an error. */
export const CLIENT_EVENTS_PER_CALL = { ratePerSecond: 100, burst: 200, maxKeys: 1 } as const;
/** Sidebands on one call at once (OpenAI's server-side tools need one; a second allows a hand-over). */
export const MAX_SIDEBANDS_PER_CALL = 2;

/** A sideband's outgoing half: the server events, as JSON text. */
export interface SidebandSink {
  send(text: string): void;
  /** The call ended. */
  close(): void;
}

/** What a sideband hands in: its client events (text), and that it went away. */
export interface SidebandHandle {
  receive(data: string | Buffer): void;
  detach(): void;
}

/** Counted per call (GET `stats`) and process-wide. */
export type OaiEventDrop = 'malformed' | 'rate_limited' | 'send_failed' | 'queue_full';

export interface OaiEventsOptions {
  readonly callId: string;
  readonly request: CallRequest | undefined;
  /** Whether the call has data channels at all (sendEvent is false at once without). */
  readonly dataChannels: boolean;
  readonly rng: Rng;
  /** The session's clock (ms) at the current drive. */
  readonly now: () => number;
  /** A well-formed client event for the handler. */
  readonly deliver: (event: RealtimeEvent) => void;
  readonly onDrop?: (reason: OaiEventDrop) => void;
}

export interface OaiEventStats {
  readonly eventsIn: number;
  readonly eventsOut: number;
  readonly drops: Readonly<Record<OaiEventDrop, number>>;
}

export class OaiEvents {
  readonly #o: OaiEventsOptions;
  readonly #query: Readonly<Record<string, string>>;
  #session: Readonly<JsonObject>;
  readonly request: CallRequest;
  readonly #queue: string[] = [];
  readonly #rate = new KeyedTokenBuckets(CLIENT_EVENTS_PER_CALL);
  readonly #sidebands = new Set<SidebandSink>();
  #channel: HandlerChannel | undefined;
  #ended = false;
  #closed = false;
  #eventsIn = 0;
  #eventsOut = 0;
  readonly drops: Record<OaiEventDrop, number> = { malformed: 0, rate_limited: 0, send_failed: 0, queue_full: 0 };

  constructor(o: OaiEventsOptions) {
    this.#o = o;
    this.#query = Object.freeze({ ...o.request?.query });
    this.#session = Object.freeze({ ...o.request?.session });
    const live = (): Readonly<JsonObject> => this.#session;
    this.request = Object.freeze({
      query: this.#query,
      get session(): Readonly<JsonObject> {
        return live();
      },
    });
  }

  get stats(): OaiEventStats {
    return { eventsIn: this.#eventsIn, eventsOut: this.#eventsOut, drops: { ...this.drops } };
  }

  /** Takes the caller's `oai-events` channel (true), or leaves another one to the handler (false). */
  claim(channel: HandlerChannel): boolean {
    if (channel.label !== OAI_EVENTS_LABEL || this.#channel !== undefined || this.#closed) return false;
    this.#channel = channel;
    channel.onMessage = (data) => this.#receive(data, 'call', (event) => this.#write(event));
    channel.onClose = () => {
      this.#closed = true;
      this.#queue.length = 0;
    };
    this.#write({ type: 'session.created', event_id: this.#eventId(), session: this.#sessionObject() });
    for (const text of this.#queue.splice(0)) this.#writeText(text);
    return true;
  }

  /** ctx.sendEvent(): the event to the caller, or queued until the channel opens; false when dropped. */
  send(event: RealtimeEvent): boolean {
    if (!isJsonObject(event) || typeof event.type !== 'string') return false;
    const text = JSON.stringify(event);
    const sideband = this.#toSidebands(text);
    if (!this.#o.dataChannels || this.#closed) return sideband;
    if (this.#channel !== undefined) return this.#writeText(text) || sideband;
    if (this.#queue.length >= MAX_QUEUED_EVENTS) return this.#drop('queue_full');
    this.#queue.push(text);
    return true;
  }

  /** The call ended: sidebands are closed. */
  end(): void {
    this.#closed = true;
    this.#ended = true;
    this.#queue.length = 0;
    for (const s of [...this.#sidebands]) s.close();
    this.#sidebands.clear();
  }

  /** A server's sideband on this call; undefined when the call has ended or has MAX_SIDEBANDS_PER_CALL. */
  attachSideband(sink: SidebandSink): SidebandHandle | undefined {
    if (this.#ended || this.#sidebands.size >= MAX_SIDEBANDS_PER_CALL) return undefined;
    this.#sidebands.add(sink);
    // Each sideband has its own rate, as the caller has.
    const rate = new KeyedTokenBuckets(CLIENT_EVENTS_PER_CALL);
    const reply = (event: JsonObject): void => sink.send(JSON.stringify(event));
    return {
      receive: (data) => {
        if (this.#sidebands.has(sink)) this.#receive(data, rate, reply);
      },
      detach: () => void this.#sidebands.delete(sink),
    };
  }

  #toSidebands(text: string): boolean {
    for (const s of this.#sidebands) s.send(text);
    return this.#sidebands.size > 0;
  }

  /** A client event from the caller's channel or a sideband; `reply` takes the errors for its sender. */
  #receive(data: string | Buffer, rate: KeyedTokenBuckets | 'call', reply: (event: JsonObject) => void): void {
    this.#eventsIn++;
    if (!(rate === 'call' ? this.#rate : rate).take('call', this.#o.now())) {
      this.#drop('rate_limited');
      return this.#error(reply, 'rate_limit_exceeded', `more than ${CLIENT_EVENTS_PER_CALL.ratePerSecond} events per second`, undefined);
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (size > MAX_CLIENT_EVENT_BYTES) {
      this.#drop('malformed');
      return this.#error(reply, 'event_too_large', `an event is at most ${MAX_CLIENT_EVENT_BYTES} bytes`, undefined);
    }
    const parsed = parseJsonObject(typeof data === 'string' ? data : data.toString('utf8'));
    if (!parsed.ok || typeof parsed.value.type !== 'string') {
      this.#drop('malformed');
      const clientId = parsed.ok && typeof parsed.value.event_id === 'string' ? parsed.value.event_id : undefined;
      const message = !parsed.ok
        ? { not_json: 'the event is not JSON', not_object: 'the event is not a JSON object', too_deep: 'the event is nested too deeply' }[
            parsed.refusal
          ]
        : 'the event has no string "type"';
      return this.#error(reply, 'invalid_event', message, clientId);
    }
    const event = parsed.value as RealtimeEvent;
    if (event.type === 'session.update') {
      if (!isJsonObject(event.session)) {
        return this.#error(
          reply,
          'invalid_value',
          'session.update needs a "session" object',
          typeof event.event_id === 'string' ? event.event_id : undefined,
        );
      }
      this.#session = Object.freeze({ ...this.#session, ...event.session });
      const updated = JSON.stringify({ type: 'session.updated', event_id: this.#eventId(), session: this.#sessionObject() });
      if (this.#channel !== undefined && !this.#closed) this.#writeText(updated);
      this.#toSidebands(updated);
    }
    this.#o.deliver(event);
  }

  /** OpenAI's error event: `{"type":"error","event_id","error":{"type","code","message","event_id"}}`. */
  #error(reply: (event: JsonObject) => void, code: string, message: string, clientEventId: string | undefined): void {
    reply({
      type: 'error',
      event_id: this.#eventId(),
      error: { type: 'invalid_request_error', code, message, event_id: clientEventId ?? null },
    });
  }

  #write(event: JsonObject): void {
    this.#writeText(JSON.stringify(event));
  }

  #writeText(text: string): boolean {
    const ch = this.#channel;
    let sent = false;
    try {
      sent = ch !== undefined && ch.send(text);
    } catch {
      // Past the caller's a=max-message-size: dropped like a full buffer.
    }
    if (sent) this.#eventsOut++;
    return sent || this.#drop('send_failed');
  }

  #drop(reason: OaiEventDrop): false {
    this.drops[reason]++;
    this.#o.onDrop?.(reason);
    return false;
  }

  #eventId(): string {
    return `event_${this.#o.rng.bytes(10).toString('hex')}`;
  }

  #sessionObject(): JsonObject {
    return realtimeSessionObject(`sess_${this.#o.callId.replace(/^rtc_/, '').slice(0, 40)}`, this.#session);
  }
}
