// The ICE-lite agent's one Binding request back to each new address (ice-lite-agent.ts
// #checkBack; a deviation from RFC 8445 §2.5, as Pion's lite agent makes): sent only for a valid
// check, once per address, at most MAX_CHECKS_BACK per agent, well-formed per RFC 8445 §7.2.2;
// its answer is consumed and counted (and confirms the address only when its MESSAGE-INTEGRITY
// verifies), other responses stay dropped; and the nomination of the provisionally selected pair
// is an event of its own. Issue #19: toward an address not yet confirmed the agent sends no more
// bytes than it received from it, so the first check pays for the request back, which goes
// first, and our answer to the check goes once the address is confirmed (or paid for). Manual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceLiteAgent, MAX_CHECKS_BACK } from '../../../src/core/ice/ice-lite-agent.ts';
import { IceControllingClient } from '../../../src/core/ice/ice-controlling-client.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../../../src/core/ice/binding-request.ts';
import { bindingError, bindingSuccess, bindingSuccessLength } from '../../../src/core/ice/binding-response.ts';
import { seededRng } from '../../../src/core/rng.ts';
import {
  decodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  StunDecodeError,
  StunClass,
  StunErrorCodes,
  type StunMessage,
} from '../../../src/core/stun/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import type { IceTransmit } from '../../../src/core/ice/ice-types.ts';

/** A routing token's length (the transceiver's server ufrag): checks are the size real ones are. */
const LOCAL_UFRAG = 'srvU'.repeat(16);
const LOCAL_PWD = 'server-password-0123456789';
const REMOTE_UFRAG = 'cliU';
const REMOTE_PWD = 'client-password-0123456789';
const CLIENT: TransportAddress = { address: '203.0.113.7', port: 50000, family: 'IPv4' };
const CLIENT2: TransportAddress = { address: '2001:db8::9', port: 41000, family: 'IPv6' };
let tidCounter = 0;
const nextTid = (): Buffer => {
  const t = Buffer.alloc(12);
  t.writeUInt32BE(++tidCounter, 8);
  return t;
};

function agent(extra: Partial<ConstructorParameters<typeof IceLiteAgent>[0]> = {}): IceLiteAgent {
  return new IceLiteAgent({
    localUfrag: LOCAL_UFRAG,
    localPwd: LOCAL_PWD,
    remoteUfrag: REMOTE_UFRAG,
    remotePwd: REMOTE_PWD,
    rng: seededRng('lite'),
    ...extra,
  });
}

function check(o: { useCandidate?: boolean; pwd?: string; controlled?: boolean } = {}): Buffer {
  return connectivityCheck({
    transactionId: nextTid(),
    localUfrag: REMOTE_UFRAG,
    remoteUfrag: LOCAL_UFRAG,
    remotePwd: o.pwd ?? LOCAL_PWD,
    priority: PEER_REFLEXIVE_PRIORITY,
    role: { controlling: !o.controlled, tieBreaker: 0x1234n },
    useCandidate: o.useCandidate,
  });
}

function transmits(a: IceLiteAgent): IceTransmit[] {
  const out = [];
  for (let t = a.pollTransmit(); t; t = a.pollTransmit()) out.push(t);
  return out;
}

function decoded(data: Buffer): StunMessage {
  const m = decodeStun(data);
  if (m instanceof StunDecodeError) throw m;
  return m;
}

/**
 * Valid checks from `from` until every one is answered and the request back has gone: the first
 * pays for the request only; with checks the size real ones are, the second (IPv4) or third
 * (IPv6: a larger XOR-MAPPED-ADDRESS in each answer) pays for the held answer and its own.
 */
function paidChecks(a: IceLiteAgent, from: TransportAddress, now: number, o: { useCandidate?: boolean } = {}): IceTransmit[] {
  const out: IceTransmit[] = [];
  for (let i = 0; i < (from.family === 'IPv4' ? 2 : 3); i++) {
    a.handle(check(o), from, now);
    out.push(...transmits(a));
  }
  return out;
}

/** The requests among what the agent queued. */
function requests(ts: readonly IceTransmit[]): IceTransmit[] {
  return ts.filter((t) => decoded(t.data).class === StunClass.Request);
}

test('after answering the first valid check, one well-formed Binding request goes back to that address (RFC 8445 §7.2.2)', () => {
  const a = agent();
  const firstCheck = check();
  a.handle(firstCheck, CLIENT, 0);
  const [request, ...rest] = transmits(a);
  assert.deepEqual(rest, [], 'the first check pays for the request back only, and it goes first (issue #19)');
  assert.equal(a.stats.held_by_budget, 1, 'our answer waits');
  assert.ok(request.data.length <= firstCheck.length, 'no more bytes than came from the address');
  assert.deepEqual(request.to, CLIENT);
  const m = decoded(request.data);
  assert.equal(m.class, StunClass.Request);
  assert.equal(m.method, 1, 'Binding');
  assert.equal(m.username, `${REMOTE_UFRAG}:${LOCAL_UFRAG}`, 'USERNAME is "<their ufrag>:<our ufrag>"');
  assert.equal(verifyMessageIntegrity(request.data, REMOTE_PWD), true, 'MESSAGE-INTEGRITY with the remote password');
  assert.equal(verifyMessageIntegrity(request.data, LOCAL_PWD), false);
  assert.ok(verifyFingerprint(request.data), 'FINGERPRINT');
  assert.equal(m.priority, PEER_REFLEXIVE_PRIORITY);
  assert.equal(typeof m.iceControlled, 'bigint', 'ICE-CONTROLLED: a lite agent is controlled');
  assert.equal(m.iceControlling, undefined);
  assert.equal(m.useCandidate, false);
  assert.equal(m.transactionId.length, 12);
  assert.equal(a.dump().checksBack, 1);
  // The far end answers it: the address is confirmed, and the answer to its check goes at once
  // (then one more request, as the check did not nominate: the next test).
  a.handle(bindingSuccess(m.transactionId, { address: '198.51.100.10', port: 3478, family: 'IPv4' }, REMOTE_PWD), CLIENT, 1);
  assert.equal(a.isConfirmed(CLIENT), true);
  const [answer, ...more] = transmits(a);
  assert.deepEqual(requests(more).length, more.length);
  const answered = decoded(answer.data);
  assert.equal(answered.class, StunClass.SuccessResponse);
  assert.deepEqual(answered.transactionId, decoded(firstCheck).transactionId, 'the answer to the first check');
  assert.deepEqual(answer.to, CLIENT);

  // The transaction id and tie-breaker come from the injected Rng: same seed, same request.
  const b = agent();
  const again = decoded(requests(paidChecks(b, CLIENT, 0))[0].data);
  assert.deepEqual(again.transactionId, m.transactionId);
  assert.equal(again.iceControlled, m.iceControlled);
  const c = agent({ rng: seededRng('other') });
  assert.notDeepEqual(decoded(requests(paidChecks(c, CLIENT, 0))[0].data).transactionId, m.transactionId);
});

test('confirmed before any nomination: one more request goes right after the held answer, so a peer nominating on a triggered check (Pion) does it at once', () => {
  // Pion's controlling agent nominates on a request only once its own check on that pair has
  // succeeded; our first request arrived while its check was unanswered.
  const a = agent();
  const firstCheck = check();
  a.handle(firstCheck, CLIENT, 0);
  const [first] = transmits(a);
  a.handle(bindingSuccess(decoded(first.data).transactionId, CLIENT, REMOTE_PWD), CLIENT, 1);
  const ts = transmits(a);
  assert.deepEqual(
    ts.map((t) => decoded(t.data).class),
    [StunClass.SuccessResponse, StunClass.Request],
    'the answer to the check first, then the request: the peer sees them in that order',
  );
  assert.deepEqual(decoded(ts[0].data).transactionId, decoded(firstCheck).transactionId);
  assert.notDeepEqual(decoded(ts[1].data).transactionId, decoded(first.data).transactionId, 'a new transaction');
  assert.deepEqual(ts[1].to, CLIENT);
  assert.equal(a.dump().checksBack, 2);
  // Its answer is consumed; the address is confirmed already, so nothing more goes.
  a.handle(bindingSuccess(decoded(ts[1].data).transactionId, CLIENT, REMOTE_PWD), CLIENT, 2);
  assert.deepEqual(transmits(a), []);
  assert.equal(a.stats.response_to_our_check, 2);

  // A peer that nominated with its check (Firefox, Chromium) gets the answer only.
  const n = agent();
  n.handle(check({ useCandidate: true }), CLIENT, 0);
  const [r] = transmits(n);
  n.handle(bindingSuccess(decoded(r.data).transactionId, CLIENT, REMOTE_PWD), CLIENT, 1);
  assert.deepEqual(
    transmits(n).map((t) => decoded(t.data).class),
    [StunClass.SuccessResponse],
  );
  assert.equal(n.dump().checksBack, 1);
});

test('once per address while it may be answered: later checks are only answered; a new address gets its own request', () => {
  const a = agent();
  assert.equal(requests(paidChecks(a, CLIENT, 0)).length, 1);
  for (let i = 1; i <= 4; i++) {
    a.handle(check(), CLIENT, i * 100);
    const ts = transmits(a);
    assert.equal(ts.length, 1, 'the answer only');
    assert.equal(requests(ts).length, 0);
  }
  // Unanswered for 500 ms, the selected address is still unconfirmed: its next check brings another request.
  a.handle(check(), CLIENT, 500);
  assert.equal(requests(transmits(a)).length, 1, 'a second request to the unconfirmed selected address');
  const ts = requests(paidChecks(a, CLIENT2, 700));
  assert.equal(ts.length, 1);
  assert.deepEqual(ts[0].to, CLIENT2);
  assert.equal(a.dump().checksBack, 3);
  assert.equal(a.isConfirmed(CLIENT), false);
});

test('nothing is sent toward an address without a valid check, nor without the means to sign and number it', () => {
  // Wrong password (401), missing credentials (400), a role conflict (487), not STUN: answered or dropped, no request.
  const a = agent();
  a.handle(check({ pwd: 'wrong-password-0123456789' }), CLIENT, 0);
  a.handle(check({ controlled: true }), CLIENT, 0);
  a.handle(Buffer.from([0x00, 0x01, 0x00, 0x00]), CLIENT, 0);
  a.handle(Buffer.from('hello'), CLIENT, 0);
  assert.equal(requests(transmits(a)).length, 0);
  assert.equal(a.stats.stun_error_401 + a.stats.stun_error_487, 2);
  assert.equal(a.dump().checksBack, 0);
  // A first check that already nominates gets one too: its answer confirms the address (issue #19).
  const n = agent();
  assert.equal(requests(paidChecks(n, CLIENT, 0, { useCandidate: true })).length, 1);
  // Without the remote password or an Rng the agent cannot send one.
  for (const x of [agent({ remotePwd: undefined }), agent({ rng: undefined })]) {
    x.handle(check(), CLIENT, 0);
    assert.deepEqual(
      transmits(x).map((t) => decoded(t.data).class),
      [StunClass.SuccessResponse],
    );
  }
});

test(`a flood of valid checks from many addresses sends at most ${MAX_CHECKS_BACK} requests`, () => {
  const a = agent();
  let answers = 0;
  let sent = 0;
  for (let i = 0; i < 200; i++) {
    const from: TransportAddress = { address: `198.51.100.${i % 250}`, port: 10_000 + i, family: 'IPv4' };
    const ts = paidChecks(a, from, i);
    answers += ts.length - requests(ts).length;
    sent += requests(ts).length;
  }
  assert.equal(answers, 400, 'every valid check is answered');
  assert.equal(sent, MAX_CHECKS_BACK);
  assert.equal(a.dump().checksBack, MAX_CHECKS_BACK);
});

test('the answer to our request is consumed and counted, success or error; other responses stay dropped', () => {
  const a = agent();
  // CLIENT nominates, so its confirmation sends no further request (the test above).
  const [r1, r2] = requests([...paidChecks(a, CLIENT, 0, { useCandidate: true }), ...paidChecks(a, CLIENT2, 0)]).map(
    (t) => decoded(t.data).transactionId,
  );
  a.handle(bindingSuccess(r1, { address: '198.51.100.10', port: 3478, family: 'IPv4' }, REMOTE_PWD), CLIENT, 10);
  a.handle(bindingError(r2, StunErrorCodes.RoleConflict, REMOTE_PWD), CLIENT2, 10);
  assert.equal(a.stats.response_to_our_check, 2);
  assert.equal(a.stats.drop_response, 0);
  assert.deepEqual(transmits(a), [], 'a response is never answered');
  assert.deepEqual(a.selected, CLIENT, 'and moves nothing');
  // A duplicate of a consumed answer, and a response to no request of ours, are drops as before.
  a.handle(bindingSuccess(r1, CLIENT, REMOTE_PWD), CLIENT, 20);
  a.handle(bindingSuccess(nextTid(), CLIENT, REMOTE_PWD), CLIENT, 20);
  assert.equal(a.stats.drop_response, 2);
  assert.equal(a.stats.response_to_our_check, 2);
});

test('our controlling client answers the request, and the agent counts that answer', () => {
  const relay: TransportAddress = { address: '198.51.100.10', port: 3478, family: 'IPv4' };
  const client = new IceControllingClient({
    localUfrag: REMOTE_UFRAG,
    localPwd: REMOTE_PWD,
    remoteUfrag: LOCAL_UFRAG,
    remotePwd: LOCAL_PWD,
    remote: relay,
    rng: seededRng('ctl'),
  });
  const a = agent();
  client.start(0);
  // One hop each way, until both are quiet.
  for (let i = 0; i < 6; i++) {
    for (let t = client.pollTransmit(); t; t = client.pollTransmit()) a.handle(t.data, CLIENT, i);
    for (let t = a.pollTransmit(); t; t = a.pollTransmit()) client.handle(t.data, relay, i);
  }
  // Two: the request back, and the one after the confirmation (its first check does not nominate).
  assert.equal(client.dump().stats.answered, 2, 'the client answered our requests as checks');
  assert.equal(a.stats.response_to_our_check, 2);
  assert.equal(a.stats.drop_response, 0);
});

test('a nomination of the provisionally selected pair is the event "nominated", once', () => {
  const a = agent();
  const events = (): unknown[] => {
    const out = [];
    for (let e = a.pollEvent(); e; e = a.pollEvent()) out.push(e);
    return out;
  };
  a.handle(check(), CLIENT, 0);
  assert.deepEqual(events(), [{ type: 'selected', address: CLIENT }]);
  a.handle(check({ useCandidate: true }), CLIENT, 10);
  assert.deepEqual(events(), [{ type: 'nominated', address: CLIENT }]);
  a.handle(check({ useCandidate: true }), CLIENT, 20);
  assert.deepEqual(events(), [], 'a repeated nomination is no news');
  a.handle(check({ useCandidate: true }), CLIENT2, 30);
  assert.deepEqual(events(), [{ type: 'selected-changed', from: CLIENT, to: CLIENT2 }]);
});

test('only an answer from the address the request went to confirms it (issue #19: proof that the address receives)', () => {
  const a = agent();
  const [tid] = requests(paidChecks(a, CLIENT, 0)).map((t) => decoded(t.data).transactionId);
  assert.equal(a.isConfirmed(CLIENT), false, 'a valid check alone proves only the credentials');
  // An answer with the right transaction id from elsewhere is consumed but confirms nothing.
  a.handle(bindingSuccess(tid, CLIENT, REMOTE_PWD), CLIENT2, 10);
  assert.equal(a.isConfirmed(CLIENT), false);
  assert.equal(a.isConfirmed(CLIENT2), false);
  assert.equal(a.pollEvent()?.type, 'selected');
  assert.equal(a.pollEvent(), undefined);
  // The selected address, still unconfirmed after 500 ms, gets another request with its next check; its answer confirms it.
  const [again] = requests(paidChecks(a, CLIENT, 600)).map((t) => decoded(t.data).transactionId);
  a.handle(bindingSuccess(again, CLIENT, REMOTE_PWD), CLIENT, 610);
  assert.equal(a.isConfirmed(CLIENT), true);
  assert.deepEqual(a.pollEvent(), { type: 'confirmed', address: CLIENT });
});

test('an answer must carry a MESSAGE-INTEGRITY that verifies with the peer password before it confirms (RFC 8489 §9.1.4)', () => {
  const a = agent();
  const [tid] = requests(paidChecks(a, CLIENT, 0)).map((t) => decoded(t.data).transactionId);
  // Right transaction id, right address: signed with the wrong password, or unsigned, it is discarded as never received.
  a.handle(bindingSuccess(tid, CLIENT, 'not-the-peer-password-012345'), CLIENT, 5);
  a.handle(bindingSuccess(tid, CLIENT, LOCAL_PWD), CLIENT, 6);
  const unsigned = bindingSuccess(tid, CLIENT, REMOTE_PWD);
  a.handle(Buffer.concat([unsigned.subarray(0, 4), unsigned.subarray(4)]).fill(0, unsigned.length - 8), CLIENT, 7);
  assert.equal(a.stats.drop_answer_integrity, 3);
  assert.equal(a.isConfirmed(CLIENT), false);
  // The request is still pending: the peer's real answer confirms.
  a.handle(bindingSuccess(tid, CLIENT, REMOTE_PWD), CLIENT, 8);
  assert.equal(a.isConfirmed(CLIENT), true);
  assert.equal(a.stats.response_to_our_check, 1);
  // A signed error answer is consumed but confirms nothing.
  const b = agent();
  const [tb] = requests(paidChecks(b, CLIENT, 0)).map((t) => decoded(t.data).transactionId);
  b.handle(bindingError(tb, StunErrorCodes.Unauthorized), CLIENT, 5);
  assert.equal(b.stats.response_to_our_check, 1);
  assert.equal(b.isConfirmed(CLIENT), false);
});

test('toward an unconfirmed address the agent sends no more bytes than it received from it (issue #19); once confirmed, no limit', () => {
  const a = agent();
  let received = 0;
  let sent = 0;
  for (let i = 0; i < 20; i++) {
    const c = check({ useCandidate: i > 0 });
    received += c.length;
    a.handle(c, CLIENT, i * 100);
    for (const t of transmits(a)) sent += t.data.length;
    assert.ok(sent <= received, `after ${i + 1} checks: ${sent} B sent for ${received} B received`);
  }
  // Once the checks paid for it (t = 100 ms), then again every 500 ms while unanswered, up to the cap.
  assert.equal(a.dump().checksBack, MAX_CHECKS_BACK);
  // Confirmed: answers go whatever they cost.
  const b = agent();
  const [tid] = requests(paidChecks(b, CLIENT, 0, { useCandidate: true })).map((t) => decoded(t.data).transactionId);
  b.handle(bindingSuccess(tid, CLIENT, REMOTE_PWD), CLIENT, 1);
  const tiny = check();
  b.handle(tiny, CLIENT, 2);
  assert.equal(transmits(b).length, 1);
  assert.equal(b.stats.held_by_budget, 1, 'only the first check’s request was held');
});

test('prepare() builds the first request back ahead: it queues nothing, and the first check gets that request, byte for byte what it would have built, with no randomness drawn then', () => {
  let draws = 0;
  const seeded = seededRng('lite');
  const counting = { bytes: (n: number) => (draws++, seeded.bytes(n)) };
  const a = agent({ rng: counting });
  a.prepare();
  assert.deepEqual(transmits(a), [], 'prepare sends nothing');
  assert.equal(draws, 2, 'the tie-breaker and the transaction id, drawn ahead');
  a.prepare();
  assert.equal(draws, 2, 'idempotent');
  const firstCheck = check();
  a.handle(firstCheck, CLIENT, 0);
  const [request, ...rest] = transmits(a);
  assert.equal(draws, 2, 'the first check draws nothing: the prepared request went');
  assert.deepEqual(rest, [], 'still the request only, within what the check paid (issue #19)');
  assert.ok(request.data.length <= firstCheck.length);
  // The same rng unprepared builds the same request on the first check.
  const b = agent();
  b.handle(check(), CLIENT, 0);
  assert.deepEqual(request.data, requests(transmits(b))[0].data);
  // Its answer confirms the address, as any request back's does.
  const m = decoded(request.data);
  a.handle(bindingSuccess(m.transactionId, CLIENT, REMOTE_PWD), CLIENT, 1);
  assert.equal(a.isConfirmed(CLIENT), true);
  assert.equal(a.stats.response_to_our_check, 1);
});

test('a prepared request back is not used for a check naming other credentials: that check gets one signed for its own', () => {
  const a = agent();
  a.prepare();
  // The offer's credentials changed after prepare (late or replaced remote credentials).
  a.setRemoteCredentials('newU', 'new-client-password-012345');
  const firstCheck = connectivityCheck({
    transactionId: nextTid(),
    localUfrag: 'newU',
    remoteUfrag: LOCAL_UFRAG,
    remotePwd: LOCAL_PWD,
    priority: PEER_REFLEXIVE_PRIORITY,
    role: { controlling: true, tieBreaker: 0x1234n },
  });
  a.handle(firstCheck, CLIENT, 0);
  const [request] = requests(transmits(a));
  const m = decoded(request.data);
  assert.equal(m.username, `newU:${LOCAL_UFRAG}`);
  assert.equal(verifyMessageIntegrity(request.data, 'new-client-password-012345'), true);
  assert.equal(verifyMessageIntegrity(request.data, REMOTE_PWD), false, 'not the request prepared for the old password');
  a.handle(bindingSuccess(m.transactionId, CLIENT, 'new-client-password-012345'), CLIENT, 1);
  assert.equal(a.isConfirmed(CLIENT), true);
});

test('the held answer is signed only when it goes, or ahead by prepare(): byte for byte the answer built on the check, and the request back leaves first', () => {
  // Issue #18: the first check's reply path queues the request back without signing the answer it holds.
  for (const ahead of [false, true]) {
    const a = agent();
    const firstCheck = check();
    a.handle(firstCheck, CLIENT, 0);
    const [first, ...rest] = transmits(a);
    assert.deepEqual(rest, []);
    assert.equal(a.stats.held_by_budget, 1, 'our answer waits, as before');
    assert.equal(a.preparable, true, 'an unsigned held answer and the nudge request are idle work');
    if (ahead) {
      a.prepare();
      assert.deepEqual(transmits(a), [], 'prepare sends nothing');
      assert.equal(a.preparable, false, 'nothing left to build');
      a.prepare();
    }
    a.handle(bindingSuccess(decoded(first.data).transactionId, CLIENT, REMOTE_PWD), CLIENT, 1);
    const [answer] = transmits(a);
    assert.deepEqual(answer.data, bindingSuccess(decoded(firstCheck).transactionId, CLIENT, LOCAL_PWD), `prepared ahead: ${ahead}`);
  }
});

test('prepare() after the first check builds the nudge request: the confirm draws no randomness, and sends what it would have built', () => {
  let draws = 0;
  const seeded = seededRng('lite');
  const a = agent({ rng: { bytes: (n: number) => (draws++, seeded.bytes(n)) } });
  a.prepare();
  a.handle(check(), CLIENT, 0);
  const [first] = transmits(a);
  a.prepare();
  const drawn = draws;
  a.handle(bindingSuccess(decoded(first.data).transactionId, CLIENT, REMOTE_PWD), CLIENT, 1);
  const nudge = requests(transmits(a));
  assert.equal(nudge.length, 1);
  assert.equal(draws, drawn, 'the confirm drew nothing: the prepared request went');
  assert.equal(a.preparable, false, 'confirmed, nudged and not yet nominated: no third request is built ahead');
  // The same rng unprepared sends the same nudge on the confirm.
  const b = agent();
  b.handle(check(), CLIENT, 0);
  const [firstB] = transmits(b);
  b.handle(bindingSuccess(decoded(firstB.data).transactionId, CLIENT, REMOTE_PWD), CLIENT, 1);
  assert.deepEqual(nudge[0].data, requests(transmits(b))[0].data);
  // Nominated: no request back is built ahead any more, nor held answers once confirmed.
  a.handle(check({ useCandidate: true }), CLIENT, 2);
  transmits(a);
  assert.equal(a.preparable, false);
  a.prepare();
  assert.equal(draws, drawn, 'nothing built for a nominated, confirmed pair');
});

test('bindingSuccessLength is the length of the answer bindingSuccess builds, IPv4, IPv6 and IPv4-mapped', () => {
  for (const to of [CLIENT, CLIENT2, { address: '::ffff:203.0.113.7', port: 1, family: 'IPv6' as const }]) {
    assert.equal(bindingSuccessLength(to), bindingSuccess(nextTid(), to, LOCAL_PWD).length, to.address);
  }
});
