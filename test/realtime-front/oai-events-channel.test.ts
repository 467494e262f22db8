// calls/oai-events.ts against a fake caller channel: session.created when `oai-events` opens,
// session.update merged into the live request.session and answered with session.updated (and
// passed on), other events to the handler, every malformed kind answered with OpenAI's `error`
// event (never a throw), the per-call rate, and ctx.sendEvent queued until open and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../src/core/rng.ts';
import { CLIENT_EVENTS_PER_CALL, MAX_CLIENT_EVENT_BYTES, MAX_QUEUED_EVENTS, OaiEvents } from '../../src/transceiver/calls/oai-events.ts';
import type { HandlerChannel, RealtimeEvent } from '../../src/transceiver/handlers/media-handler.ts';
import { fakeChannel } from '../handlers/fake-context.ts';

/** A server event as the fake channel saw it (loosely typed: the test reads nested fields). */
type Sent = { type: string; event_id?: string; session?: Record<string, unknown>; error?: Record<string, unknown>; [k: string]: unknown };

/** The oai-events channel as the caller's side: what Parley sent, parsed; `open` false refuses sends. */
function callerChannel(label: string): HandlerChannel & { sent: Sent[]; open: boolean } {
  const sent: Sent[] = [];
  const ch = Object.assign(
    fakeChannel(label, (data) => {
      if (!ch.open) return false;
      sent.push(JSON.parse(String(data)) as Sent);
      return true;
    }),
    { sent, open: true },
  );
  return ch;
}

type Session = Record<string, unknown> & { audio: { input: Record<string, unknown>; output: Record<string, unknown> } };

function setup(session: Record<string, unknown> = {}) {
  const delivered: RealtimeEvent[] = [];
  let now = 1000;
  const events = new OaiEvents({
    callId: 'rtc_abc',
    request: { query: { agent: 'x' }, session },
    dataChannels: true,
    rng: seededRng('oai'),
    now: () => now,
    deliver: (e) => delivered.push(e),
  });
  return { events, delivered, advance: (ms: number) => (now += ms) };
}

test('session.created when oai-events opens, shaped like OpenAI GA and merged from request.session', () => {
  const { events } = setup({ model: 'gpt-realtime', instructions: 'be brief', audio: { output: { voice: 'marin' } } });
  const other = callerChannel('chat');
  assert.equal(events.claim(other), false, 'other channels stay the handler’s');
  const ch = callerChannel('oai-events');
  assert.equal(events.claim(ch), true);
  assert.equal(ch.sent.length, 1);
  const created = ch.sent[0] as { type: string; event_id: string; session: Session };
  assert.equal(created.type, 'session.created');
  assert.match(created.event_id, /^event_[0-9a-f]{20}$/);
  const s = created.session;
  assert.equal(s.object, 'realtime.session');
  assert.equal(s.type, 'realtime');
  assert.equal(s.id, 'sess_abc');
  assert.equal(s.model, 'gpt-realtime');
  assert.equal(s.instructions, 'be brief');
  assert.deepEqual(s.output_modalities, ['audio']);
  assert.equal(s.audio.output.voice, 'marin');
  assert.deepEqual(s.audio.output.format, { type: 'audio/pcm', rate: 24000 }, 'audio.output merged one level deep');
  assert.deepEqual(s.audio.input.format, { type: 'audio/pcm', rate: 24000 });
  assert.equal(events.claim(callerChannel('oai-events')), false, 'a second oai-events is the handler’s');
});

test('session.update: merged into the live request.session, answered with session.updated, then passed on', () => {
  const { events, delivered } = setup({ model: 'm1', instructions: 'a' });
  const seen = events.request;
  const ch = callerChannel('oai-events');
  events.claim(ch);
  ch.onMessage!(JSON.stringify({ type: 'session.update', event_id: 'c1', session: { instructions: 'b', tools: [{ type: 'function' }] } }));
  assert.deepEqual(seen.session, { model: 'm1', instructions: 'b', tools: [{ type: 'function' }] }, 'the handler’s request object is live');
  assert.equal(seen.query.agent, 'x');
  const updated = ch.sent[1] as { type: string; session: Record<string, unknown> };
  assert.equal(updated.type, 'session.updated');
  assert.equal(updated.session.instructions, 'b');
  assert.equal(updated.session.model, 'm1');
  assert.deepEqual(
    delivered.map((e) => e.type),
    ['session.update'],
  );
  ch.onMessage!(Buffer.from(JSON.stringify({ type: 'response.create' })));
  assert.deepEqual(
    delivered.map((e) => e.type),
    ['session.update', 'response.create'],
  );
  assert.equal(events.stats.eventsIn, 2);
});

test('malformed events are answered with an error event, never delivered or thrown', () => {
  const { events, delivered } = setup();
  const ch = callerChannel('oai-events');
  events.claim(ch);
  const deep = '{"type":"x","a":' + '['.repeat(40) + ']'.repeat(40) + '}';
  const cases: [string, string][] = [
    ['not json', 'invalid_event'],
    ['[1,2]', 'invalid_event'],
    ['{"event_id":"c9","type":7}', 'invalid_event'],
    [deep, 'invalid_event'],
    [JSON.stringify({ type: 'x', pad: 'a'.repeat(MAX_CLIENT_EVENT_BYTES) }), 'event_too_large'],
    ['{"type":"session.update","session":"nope"}', 'invalid_value'],
  ];
  for (const [text, code] of cases) {
    ch.onMessage!(text);
    const e = ch.sent.at(-1) as { type: string; event_id: string; error: Record<string, unknown> };
    assert.equal(e.type, 'error', text.slice(0, 30));
    assert.match(e.event_id, /^event_/);
    assert.equal(e.error.type, 'invalid_request_error');
    assert.equal(e.error.code, code);
    assert.equal(typeof e.error.message, 'string');
    assert.ok('event_id' in e.error);
  }
  assert.equal(ch.sent[3].error?.event_id, 'c9', 'the client’s event_id is echoed');
  assert.equal(delivered.length, 0);
  assert.equal(events.stats.drops.malformed, 5);
});

test('past the per-call rate each event is answered with rate_limit_exceeded and counted; it refills with time', () => {
  const { events, delivered, advance } = setup();
  const ch = callerChannel('oai-events');
  events.claim(ch);
  const n = CLIENT_EVENTS_PER_CALL.burst + 10;
  for (let i = 0; i < n; i++) ch.onMessage!('{"type":"ping"}');
  assert.equal(delivered.length, CLIENT_EVENTS_PER_CALL.burst);
  assert.equal(events.stats.drops.rate_limited, 10);
  assert.equal(ch.sent.at(-1)?.error?.code, 'rate_limit_exceeded');
  advance(1000);
  ch.onMessage!('{"type":"ping"}');
  assert.equal(delivered.length, CLIENT_EVENTS_PER_CALL.burst + 1);
});

test('sendEvent: queued until oai-events opens (after session.created), bounded, false once closed or without data channels', () => {
  const { events } = setup();
  assert.equal(events.send({ type: 'response.created' }), true);
  for (let i = 1; i < MAX_QUEUED_EVENTS; i++) events.send({ type: 'q', i });
  assert.equal(events.send({ type: 'one.too.many' }), false);
  assert.equal(events.stats.drops.queue_full, 1);
  const ch = callerChannel('oai-events');
  events.claim(ch);
  assert.deepEqual(
    ch.sent.slice(0, 2).map((e) => e.type),
    ['session.created', 'response.created'],
  );
  assert.equal(ch.sent.length, 1 + MAX_QUEUED_EVENTS);
  assert.equal(events.send({ type: 'later' }), true);
  ch.open = false;
  assert.equal(events.send({ type: 'refused' }), false, 'the channel refused it');
  ch.onClose!();
  assert.equal(events.send({ type: 'after.close' }), false);
  const none = new OaiEvents({
    callId: 'rtc_x',
    request: undefined,
    dataChannels: false,
    rng: seededRng(1),
    now: () => 0,
    deliver: () => {},
  });
  assert.equal(none.send({ type: 'x' }), false);
  assert.deepEqual(none.request.session, {});
});
