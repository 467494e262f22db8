// ICE-lite agent, server side (RFC 8445 §7.3, RFC 8489 §9.1.3, RFC 7675): answers to checks,
// error responses, nomination and address change, consent freshness. Manual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceLiteAgent } from '../../../src/core/ice/ice-lite-agent.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../../../src/core/ice/binding-request.ts';
import {
  decodeStun,
  encodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  usernameAttribute,
  priorityAttribute,
  iceControllingAttribute,
  StunDecodeError,
  StunClass,
  AttrType,
  type StunMessage,
  type RawAttribute,
} from '../../../src/core/stun/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';

const LOCAL_UFRAG = 'srvU';
const LOCAL_PWD = 'server-password-0123456789';
const REMOTE_UFRAG = 'cliU';
const CLIENT: TransportAddress = { address: '203.0.113.7', port: 50000, family: 'IPv4' };
const CLIENT2: TransportAddress = { address: '2001:db8::9', port: 41000, family: 'IPv6' };
let tidCounter = 0;
const nextTid = (): Buffer => {
  const t = Buffer.alloc(12);
  t.writeUInt32BE(++tidCounter, 8);
  return t;
};

function agent(extra: Partial<ConstructorParameters<typeof IceLiteAgent>[0]> = {}): IceLiteAgent {
  return new IceLiteAgent({ localUfrag: LOCAL_UFRAG, localPwd: LOCAL_PWD, remoteUfrag: REMOTE_UFRAG, ...extra });
}

function check(
  opts: { tid?: Buffer; useCandidate?: boolean; pwd?: string; localUfrag?: string; remoteUfrag?: string; controlled?: boolean } = {},
): Buffer {
  return connectivityCheck({
    transactionId: opts.tid ?? nextTid(),
    localUfrag: opts.remoteUfrag ?? REMOTE_UFRAG,
    remoteUfrag: opts.localUfrag ?? LOCAL_UFRAG,
    remotePwd: opts.pwd ?? LOCAL_PWD,
    priority: PEER_REFLEXIVE_PRIORITY,
    role: { controlling: !opts.controlled, tieBreaker: 0x1234n },
    useCandidate: opts.useCandidate,
  });
}

/** The one answer the agent queued, decoded; asserts there is exactly one, to `to`. */
function answer(a: IceLiteAgent, to: TransportAddress = CLIENT): { m: StunMessage; raw: Buffer } {
  const t = a.pollTransmit();
  assert.ok(t, 'expected a response');
  assert.deepEqual(t.to, to);
  assert.equal(a.pollTransmit(), undefined, 'exactly one response');
  assert.ok(verifyFingerprint(t.data), 'every response carries a valid FINGERPRINT');
  const m = decodeStun(t.data);
  if (m instanceof StunDecodeError) throw m;
  return { m, raw: t.data };
}

function events(a: IceLiteAgent): unknown[] {
  const out = [];
  for (let e = a.pollEvent(); e; e = a.pollEvent()) out.push(e);
  return out;
}

test('answers a valid check: success, XOR-MAPPED-ADDRESS = source, same transaction id, integrity with localPwd, fingerprint', () => {
  for (const from of [CLIENT, CLIENT2]) {
    const a = agent();
    const tid = nextTid();
    a.handle(check({ tid }), from, 1000);
    const { m, raw } = answer(a, from);
    assert.equal(m.class, StunClass.SuccessResponse);
    assert.equal(m.method, 1);
    assert.deepEqual(m.transactionId, tid);
    assert.deepEqual(m.xorMappedAddress, from);
    assert.equal(verifyMessageIntegrity(raw, LOCAL_PWD), true);
    assert.equal(verifyMessageIntegrity(raw, 'other'), false);
    assert.equal(a.stats.answered, 1);
  }
});

test('before any nomination the first valid check selects its pair provisionally; only a nomination moves it', () => {
  const a = agent();
  a.handle(check(), CLIENT, 0);
  answer(a);
  assert.deepEqual(events(a), [{ type: 'selected', address: CLIENT }]);
  assert.deepEqual(a.selected, CLIENT);
  assert.equal(a.dump().nominated, false);
  assert.equal(a.pollTimeout(), 30_000, 'consent runs from the provisional selection');
  // A plain check from another address is a valid pair, not a move.
  const other = { address: '198.51.100.9', port: 40000, family: 'IPv4' } as const;
  a.handle(check(), other, 10);
  assert.deepEqual(a.pollTransmit()?.to, other);
  assert.deepEqual(events(a), []);
  assert.deepEqual(a.selected, CLIENT);
  assert.equal(a.dump().validPairs.length, 2);
  // The nomination of the other address moves the selection.
  a.handle(check({ useCandidate: true }), other, 20);
  assert.deepEqual(a.pollTransmit()?.to, other);
  assert.deepEqual(events(a), [{ type: 'selected-changed', from: CLIENT, to: other }]);
  assert.equal(a.dump().nominated, true);
});

test('401 for a wrong password, sent without MESSAGE-INTEGRITY (RFC 8489 §9.1.3)', () => {
  const a = agent();
  a.handle(check({ pwd: 'wrong-password', useCandidate: true }), CLIENT, 0);
  const { m } = answer(a);
  assert.equal(m.class, StunClass.ErrorResponse);
  assert.deepEqual(m.errorCode, { code: 401, reason: 'Unauthorized' });
  assert.equal(m.integrityOffset, -1);
  assert.equal(a.selected, undefined);
  assert.deepEqual(events(a), []);
  assert.equal(a.stats.stun_error_401, 1);
});

test('401 for a USERNAME with the wrong local ufrag, the wrong remote ufrag, or no colon', () => {
  const a = agent();
  a.handle(check({ localUfrag: 'nope' }), CLIENT, 0);
  assert.equal(answer(a).m.errorCode?.code, 401);
  a.handle(check({ remoteUfrag: 'other' }), CLIENT, 0);
  assert.equal(answer(a).m.errorCode?.code, 401);
  const noColon = encodeStun(
    { method: 1, class: 0, transactionId: nextTid(), attributes: [usernameAttribute(LOCAL_UFRAG)] },
    { integrityKey: LOCAL_PWD, fingerprint: true },
  );
  a.handle(noColon, CLIENT, 0);
  assert.equal(answer(a).m.errorCode?.code, 401);
});

test('any remote ufrag is accepted while the remote ufrag is unknown', () => {
  const a = agent({ remoteUfrag: undefined });
  a.handle(check({ remoteUfrag: 'whatever' }), CLIENT, 0);
  assert.equal(answer(a).m.class, StunClass.SuccessResponse);
});

test('400 for a missing USERNAME or missing MESSAGE-INTEGRITY, without MESSAGE-INTEGRITY', () => {
  const a = agent();
  const base: RawAttribute[] = [priorityAttribute(1), iceControllingAttribute(1n)];
  a.handle(
    encodeStun({ method: 1, class: 0, transactionId: nextTid(), attributes: base }, { integrityKey: LOCAL_PWD, fingerprint: true }),
    CLIENT,
    0,
  );
  const r1 = answer(a).m;
  assert.deepEqual(r1.errorCode, { code: 400, reason: 'Bad Request' });
  assert.equal(r1.integrityOffset, -1);
  a.handle(
    encodeStun(
      { method: 1, class: 0, transactionId: nextTid(), attributes: [usernameAttribute(`${LOCAL_UFRAG}:${REMOTE_UFRAG}`), ...base] },
      { fingerprint: true },
    ),
    CLIENT,
    0,
  );
  assert.equal(answer(a).m.errorCode?.code, 400);
  assert.equal(a.stats.stun_error_400, 2);
});

test('400 for a malformed known attribute, keeping the transaction id', () => {
  const a = agent();
  const tid = nextTid();
  const bad = encodeStun(
    {
      method: 1,
      class: 0,
      transactionId: tid,
      attributes: [usernameAttribute(`${LOCAL_UFRAG}:${REMOTE_UFRAG}`), { type: AttrType.Priority, value: Buffer.alloc(3) }],
    },
    { integrityKey: LOCAL_PWD, fingerprint: true },
  );
  a.handle(bad, CLIENT, 0);
  const { m } = answer(a);
  assert.equal(m.errorCode?.code, 400);
  assert.deepEqual(m.transactionId, tid);
});

test('487 Role Conflict for a peer that is also controlled (RFC 8445 §7.3.1.1), with MESSAGE-INTEGRITY', () => {
  const a = agent();
  a.handle(check({ controlled: true, useCandidate: true }), CLIENT, 0);
  const { m, raw } = answer(a);
  assert.deepEqual(m.errorCode, { code: 487, reason: 'Role Conflict' });
  assert.equal(verifyMessageIntegrity(raw, LOCAL_PWD), true);
  assert.equal(a.selected, undefined, 'a conflicting check nominates nothing');
});

test('420 lists unknown comprehension-required attributes, only after authentication', () => {
  const a = agent();
  const attrs = (): RawAttribute[] => [
    usernameAttribute(`${LOCAL_UFRAG}:${REMOTE_UFRAG}`),
    iceControllingAttribute(5n),
    { type: 0x7abc, value: Buffer.alloc(2) },
    { type: 0xfabc, value: Buffer.alloc(2) },
  ];
  a.handle(
    encodeStun({ method: 1, class: 0, transactionId: nextTid(), attributes: attrs() }, { integrityKey: LOCAL_PWD, fingerprint: true }),
    CLIENT,
    0,
  );
  const { m, raw } = answer(a);
  assert.equal(m.errorCode?.code, 420);
  assert.deepEqual(m.unknownAttributes, [0x7abc]);
  assert.ok(verifyMessageIntegrity(raw, LOCAL_PWD));
  a.handle(
    encodeStun({ method: 1, class: 0, transactionId: nextTid(), attributes: attrs() }, { integrityKey: 'bad', fingerprint: true }),
    CLIENT,
    0,
  );
  assert.equal(answer(a).m.errorCode?.code, 401);
});

test('silently drops: bad or missing FINGERPRINT, indications, responses, other methods, non-STUN', () => {
  const a = agent();
  const bad = check({ useCandidate: true });
  bad[bad.length - 1] ^= 1;
  a.handle(bad, CLIENT, 0);
  const noFp = encodeStun(
    { method: 1, class: 0, transactionId: nextTid(), attributes: [usernameAttribute(`${LOCAL_UFRAG}:${REMOTE_UFRAG}`)] },
    { integrityKey: LOCAL_PWD },
  );
  a.handle(noFp, CLIENT, 0);
  a.handle(
    encodeStun({ method: 1, class: StunClass.Indication, transactionId: nextTid(), attributes: [] }, { fingerprint: true }),
    CLIENT,
    0,
  );
  a.handle(
    encodeStun({ method: 1, class: StunClass.SuccessResponse, transactionId: nextTid(), attributes: [] }, { fingerprint: true }),
    CLIENT,
    0,
  );
  a.handle(encodeStun({ method: 3, class: StunClass.Request, transactionId: nextTid(), attributes: [] }, { fingerprint: true }), CLIENT, 0);
  a.handle(Buffer.from([22, 0xfe, 0xfd, 0, 0]), CLIENT, 0);
  a.handle(Buffer.alloc(0), CLIENT, 0);
  a.handle(Buffer.alloc(24), CLIENT, 0);
  assert.equal(a.pollTransmit(), undefined);
  assert.deepEqual(events(a), []);
  const s = a.stats;
  assert.deepEqual([s.drop_fingerprint, s.indication, s.drop_response, s.drop_method, s.drop_malformed], [2, 1, 1, 1, 3]);
});

test('nomination selects the address (RFC 8445 §7.3.1.5) once; repeated nominations emit nothing', () => {
  const a = agent();
  a.handle(check({ useCandidate: true }), CLIENT, 100);
  answer(a);
  assert.deepEqual(events(a), [{ type: 'selected', address: CLIENT }]);
  assert.deepEqual(a.selected, CLIENT);
  a.handle(check({ useCandidate: true }), CLIENT, 200);
  answer(a);
  assert.deepEqual(events(a), []);
});

test('a nomination from a new address moves the selection and emits selected-changed; a plain check does not', () => {
  const a = agent();
  a.handle(check({ useCandidate: true }), CLIENT, 0);
  answer(a);
  events(a);
  a.handle(check(), CLIENT2, 10);
  answer(a, CLIENT2);
  assert.deepEqual(events(a), [], 'valid but not nominated');
  assert.deepEqual(a.selected, CLIENT);
  a.handle(check({ useCandidate: true }), CLIENT2, 20);
  answer(a, CLIENT2);
  assert.deepEqual(events(a), [{ type: 'selected-changed', from: CLIENT, to: CLIENT2 }]);
  assert.deepEqual(a.selected, CLIENT2);
});

test('consent lost at exactly 30 s after the last valid check on the selected pair, not at 29.999 s, and once', () => {
  const a = agent();
  a.handle(check({ useCandidate: true }), CLIENT, 1000);
  events(a);
  assert.equal(a.pollTimeout(), 31_000);
  a.handleTimeout(30_999.999);
  assert.deepEqual(events(a), []);
  a.handleTimeout(31_000);
  assert.deepEqual(events(a), [{ type: 'consent_lost' }]);
  a.handleTimeout(40_000);
  a.handleTimeout(90_000);
  assert.deepEqual(events(a), [], 'exactly once');
  assert.equal(a.pollTimeout(), undefined);
  assert.equal(a.consentLost, true);
});

test('checks on the selected pair refresh consent; checks from other addresses and failed checks do not', () => {
  const a = agent({ consentTimeoutMs: 30_000 });
  a.handle(check({ useCandidate: true }), CLIENT, 0);
  for (let t = 5000; t <= 60_000; t += 5000) {
    a.handle(check(), CLIENT, t); // consent checks need not carry USE-CANDIDATE
    a.handleTimeout(t);
  }
  assert.equal(a.pollTimeout(), 90_000);
  a.handle(check(), CLIENT2, 70_000);
  a.handle(check({ pwd: 'bad' }), CLIENT, 80_000);
  assert.equal(a.pollTimeout(), 90_000);
  a.handleTimeout(89_999);
  assert.deepEqual(
    events(a).filter((e) => (e as { type: string }).type === 'consent_lost'),
    [],
  );
  a.handleTimeout(90_000);
  assert.deepEqual(events(a).at(-1), { type: 'consent_lost' });
});

test('a check arriving after the deadline does not revive consent (expiry is processed first)', () => {
  const a = agent();
  a.handle(check({ useCandidate: true }), CLIENT, 0);
  events(a);
  a.handle(check({ useCandidate: true }), CLIENT, 30_000);
  assert.deepEqual(events(a), [{ type: 'consent_lost' }]);
  assert.equal(a.pollTimeout(), undefined);
});

test('close() is idempotent and silences the agent', () => {
  const a = agent();
  a.close();
  a.close();
  a.handle(check({ useCandidate: true }), CLIENT, 0);
  assert.equal(a.pollTransmit(), undefined);
  assert.equal(a.pollTimeout(), undefined);
});

test('valid pairs are capped at 16, evicting the oldest but never the selected one', () => {
  const a = agent();
  a.handle(check({ useCandidate: true }), CLIENT, 0);
  for (let i = 1; i <= 20; i++) a.handle(check(), { address: '192.0.2.1', port: 1000 + i, family: 'IPv4' }, i);
  const pairs = a.dump().validPairs.map((p) => p.remote);
  assert.equal(pairs.length, 16);
  assert.ok(pairs.includes('203.0.113.7:50000'), 'the selected pair stays');
  assert.ok(!pairs.includes('192.0.2.1:1001') && pairs.includes('192.0.2.1:1020'), 'oldest evicted first');
  assert.deepEqual(a.selected, CLIENT);
});
