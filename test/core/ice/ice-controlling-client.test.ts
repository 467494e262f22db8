// The controlling client (RFC 8445 §7.2, §8.1.1; RFC 8489 §6.2.1; RFC 7675) on a manual clock:
// what its checks contain, its retransmission schedule, which responses it accepts, consent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceControllingClient } from '../../../src/core/ice/ice-controlling-client.ts';
import { bindingError, bindingSuccess } from '../../../src/core/ice/binding-response.ts';
import { connectivityCheck } from '../../../src/core/ice/binding-request.ts';
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

const SERVER: TransportAddress = { address: '198.51.100.10', port: 3478, family: 'IPv4' };
const ME: TransportAddress = { address: '203.0.113.5', port: 61000, family: 'IPv4' };
const SERVER_PWD = 'lite-password-abcdefghij';

function client(extra: Partial<ConstructorParameters<typeof IceControllingClient>[0]> = {}): IceControllingClient {
  return new IceControllingClient({
    localUfrag: 'cli1',
    localPwd: 'client-password-000000',
    remoteUfrag: 'srv1',
    remotePwd: SERVER_PWD,
    remote: SERVER,
    rng: seededRng(7),
    ...extra,
  });
}

function sent(c: IceControllingClient): Array<{ m: StunMessage; raw: Buffer }> {
  const out = [];
  for (let t = c.pollTransmit(); t; t = c.pollTransmit()) {
    assert.deepEqual(t.to, SERVER);
    const m = decodeStun(t.data);
    if (m instanceof StunDecodeError) throw m;
    out.push({ m, raw: t.data });
  }
  return out;
}

/** Answers the one request sent, as the lite agent would; returns the success bytes. */
function succeed(c: IceControllingClient, now: number, pwd = SERVER_PWD): void {
  const [req] = sent(c);
  c.handle(bindingSuccess(req.m.transactionId, ME, pwd), SERVER, now);
}

function connect(c: IceControllingClient, now = 0): void {
  c.start(now);
  succeed(c, now + 10);
  succeed(c, now + 20);
  assert.equal(c.pollEvent()?.type, 'connected');
}

test('the first check: USERNAME remote:local, PRIORITY, ICE-CONTROLLING tie-breaker, no USE-CANDIDATE, integrity with the remote password, FINGERPRINT', () => {
  const c = client();
  c.start(0);
  const [{ m, raw }] = sent(c);
  assert.equal(m.class, StunClass.Request);
  assert.equal(m.username, 'srv1:cli1');
  assert.equal(m.priority, (110 << 24) + (65535 << 8) + 255);
  assert.equal(m.iceControlling, c.tieBreaker);
  assert.equal(m.iceControlled, undefined);
  assert.equal(m.useCandidate, false);
  assert.ok(verifyMessageIntegrity(raw, SERVER_PWD));
  assert.ok(verifyFingerprint(raw));
  assert.equal(c.tieBreaker, client().tieBreaker, 'tie-breaker comes from the injected rng');
  assert.notEqual(c.tieBreaker, client({ rng: seededRng(8) }).tieBreaker);
});

test('a successful check is repeated with USE-CANDIDATE (regular nomination); its success connects once with the mapped address', () => {
  const c = client();
  c.start(0);
  succeed(c, 5);
  const [nom] = sent(c);
  assert.equal(nom.m.useCandidate, true);
  assert.equal(c.pollEvent(), undefined);
  c.handle(bindingSuccess(nom.m.transactionId, ME, SERVER_PWD), SERVER, 10);
  assert.deepEqual(c.pollEvent(), { type: 'connected', mappedAddress: ME });
  assert.equal(c.pollEvent(), undefined);
  c.handle(bindingSuccess(nom.m.transactionId, ME, SERVER_PWD), SERVER, 11);
  assert.equal(c.pollEvent(), undefined, 'a duplicate response changes nothing');
});

test('RFC 8489 §6.2.1 retransmissions: 0, 100, 300, 700, 1500, 3100, 6300 ms, then failed at 7900 ms, not before', () => {
  const c = client();
  c.start(0);
  const times: number[] = [0];
  sent(c);
  let ids = new Set<string>();
  for (let now = 1; now < 7900; now++) {
    c.handleTimeout(now);
    const s = sent(c);
    if (s.length) {
      times.push(now);
      ids = new Set([...ids, ...s.map((x) => x.m.transactionId.toString('hex'))]);
    }
  }
  assert.deepEqual(times, [0, 100, 300, 700, 1500, 3100, 6300]);
  assert.equal(ids.size, 1, 'retransmissions reuse the transaction id');
  assert.equal(c.pollEvent(), undefined);
  assert.equal(c.pollTimeout(), 7900);
  c.handleTimeout(7900);
  assert.deepEqual(c.pollEvent(), { type: 'failed', code: 'ERR_ICE_CHECK_TIMEOUT', reason: 'timeout' });
  assert.equal(c.pollTimeout(), undefined);
});

test('responses are ignored unless from the remote candidate, for a known transaction, with valid FINGERPRINT and MESSAGE-INTEGRITY', () => {
  const c = client();
  c.start(0);
  const [req] = sent(c);
  const tid = req.m.transactionId;
  c.handle(bindingSuccess(tid, ME, SERVER_PWD), { ...SERVER, port: 3479 }, 1);
  c.handle(bindingSuccess(Buffer.alloc(12, 9), ME, SERVER_PWD), SERVER, 1);
  c.handle(bindingSuccess(tid, ME, 'not-the-password'), SERVER, 1);
  const badFp = bindingSuccess(tid, ME, SERVER_PWD);
  badFp[badFp.length - 1] ^= 1;
  c.handle(badFp, SERVER, 1);
  c.handle(Buffer.from([0x80, 0x60, 0, 0]), SERVER, 1);
  assert.equal(c.state, 'checking');
  assert.deepEqual(c.stats, {
    retransmits: 0,
    drop_malformed: 1,
    drop_unknown_transaction: 1,
    drop_asymmetric: 1,
    drop_fingerprint: 1,
    drop_integrity: 1,
    answered: 0,
    request_refused: 0,
    stun_error_487: 0,
    drop_request: 0,
  });
  c.handle(bindingSuccess(tid, ME, SERVER_PWD), SERVER, 2);
  assert.equal(c.state, 'nominating');
});

test('an error response before connecting fails the attempt (401 has no MESSAGE-INTEGRITY and is still accepted)', () => {
  const c = client();
  c.start(0);
  const [req] = sent(c);
  c.handle(bindingError(req.m.transactionId, StunErrorCodes.Unauthorized), SERVER, 5);
  assert.deepEqual(c.pollEvent(), { type: 'failed', code: 'ERR_ICE_CHECK_REFUSED', reason: 'error 401' });
  assert.equal(c.state, 'failed');
});

test('consent checks every 4-6 s (RFC 7675 §5.1) carry USE-CANDIDATE and fresh transaction ids', () => {
  const c = client();
  connect(c);
  const at: number[] = [];
  const ids = new Set<string>();
  for (let now = 21; now <= 60_000; now++) {
    c.handleTimeout(now);
    for (const s of sent(c)) {
      if (ids.has(s.m.transactionId.toString('hex'))) continue; // retransmission
      ids.add(s.m.transactionId.toString('hex'));
      at.push(now);
      assert.equal(s.m.useCandidate, true);
      c.handle(bindingSuccess(s.m.transactionId, ME, SERVER_PWD), SERVER, now);
    }
  }
  assert.ok(at.length >= 10 && at.length <= 15, `${at.length} consent checks`);
  const gaps = at.map((t, i) => t - (i === 0 ? 20 : at[i - 1]));
  assert.ok(
    gaps.every((g) => g >= 4000 && g <= 6000),
    `gaps ${gaps}`,
  );
  assert.ok(new Set(gaps).size > 1, 'jittered');
  assert.equal(c.pollEvent(), undefined);
});

test('consent lost 30 s after the last authenticated response, not at 29.999 s', () => {
  const c = client();
  connect(c, 0); // connected at 20
  for (let now = 21; now < 30_020; now++) {
    c.handleTimeout(now);
    sent(c);
  }
  assert.equal(c.pollEvent(), undefined);
  assert.equal(c.pollTimeout(), 30_020);
  c.handleTimeout(30_019.999);
  assert.equal(c.pollEvent(), undefined);
  c.handleTimeout(30_020);
  assert.deepEqual(c.pollEvent(), { type: 'consent_lost' });
  c.handleTimeout(90_000);
  assert.equal(c.pollEvent(), undefined);
  assert.equal(sent(c).length, 0, 'no more checks after consent is lost');
});

test('RFC 8445 §7.3: checks from the peer are answered (a lite peer such as Pion sends them) without changing the client state', () => {
  const c = client();
  const PEER_TIE = 0x1234n;
  const check = (o: { pwd?: string; username?: [string, string]; controlling?: boolean; fingerprint?: boolean } = {}): Buffer => {
    const [localUfrag, remoteUfrag] = o.username ?? ['srv1', 'cli1'];
    // As the peer builds it: USERNAME "<our ufrag>:<its ufrag>", signed with our password.
    const raw = connectivityCheck({
      transactionId: Buffer.alloc(12, 7),
      localUfrag,
      remoteUfrag,
      remotePwd: o.pwd ?? 'client-password-000000',
      priority: 1,
      role: { controlling: o.controlling ?? false, tieBreaker: PEER_TIE },
    });
    return o.fingerprint === false ? withoutFingerprint(raw) : raw;
  };
  const answers = (): StunMessage[] => {
    const out: StunMessage[] = [];
    for (let t = c.pollTransmit(); t; t = c.pollTransmit()) {
      assert.deepEqual(t.to, SERVER, 'answered to where the check came from');
      assert.ok(verifyFingerprint(t.data));
      const m = decodeStun(t.data);
      if (m instanceof StunDecodeError) throw m;
      if (m.class === StunClass.SuccessResponse || m.errorCode?.code === 487)
        assert.ok(verifyMessageIntegrity(t.data, 'client-password-000000'), 'signed with our password');
      else assert.equal(m.integrityOffset, -1, 'a 400/401 carries no MESSAGE-INTEGRITY');
      out.push(m);
    }
    return out;
  };

  c.start(0);
  const [first] = sent(c);
  c.handle(check(), SERVER, 5);
  const [ok] = answers();
  assert.equal(ok.class, StunClass.SuccessResponse);
  assert.deepEqual(ok.transactionId, Buffer.alloc(12, 7));
  assert.deepEqual(ok.xorMappedAddress, SERVER, 'XOR-MAPPED-ADDRESS is the source of the check');
  assert.equal(c.state, 'checking', 'answering is not connecting');

  c.handle(check({ pwd: 'wrong-password-0000000' }), SERVER, 6);
  assert.equal(answers()[0].errorCode?.code, 401);
  c.handle(check({ username: ['srv1', 'someone-else'] }), SERVER, 7);
  assert.equal(answers()[0].errorCode?.code, 401, 'USERNAME must name this pair of ufrags');
  c.handle(check({ controlling: true }), SERVER, 8);
  assert.equal(answers()[0].errorCode?.code, 487, 'a controlling peer: role conflict');
  c.handle(check({ fingerprint: false }), SERVER, 9);
  assert.deepEqual(answers(), [], 'no FINGERPRINT: dropped unanswered');

  c.handle(bindingSuccess(first.m.transactionId, ME, SERVER_PWD), SERVER, 10);
  succeed(c, 20);
  assert.equal(c.pollEvent()?.type, 'connected', 'the checks answered in between did not disturb connecting');
  c.handle(check(), SERVER, 40);
  assert.equal(answers()[0].class, StunClass.SuccessResponse, 'answered once connected too');
  assert.equal(c.state, 'connected');
  assert.deepEqual(
    { answered: c.stats.answered, refused: c.stats.request_refused, conflict: c.stats.stun_error_487, dropped: c.stats.drop_request },
    { answered: 2, refused: 2, conflict: 1, dropped: 1 },
  );
});

function withoutFingerprint(raw: Buffer): Buffer {
  // FINGERPRINT is the last 8 bytes; drop them and fix the header length.
  const b = Buffer.from(raw.subarray(0, raw.length - 8));
  b.writeUInt16BE(b.length - 20, 2);
  return b;
}
