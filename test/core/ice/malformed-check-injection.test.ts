// Hostile input for the ICE-lite agent: mutated connectivity checks and random bytes. The agent
// never throws, answers at most once, only with well-formed responses for the same transaction,
// and never answers success or selects a pair for a packet that does not authenticate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IceLiteAgent } from '../../../src/core/ice/ice-lite-agent.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../../../src/core/ice/binding-request.ts';
import { decodeStun, verifyFingerprint, verifyMessageIntegrity, StunDecodeError, StunClass } from '../../../src/core/stun/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { mutationArb, mutate, transactionIdArb } from '../stun/arbitraries.ts';

const PWD = 'lite-agent-password-0123';
const FROM: TransportAddress = { address: '198.51.100.33', port: 4444, family: 'IPv4' };

function checkAgent(packet: Buffer): void {
  const agent = new IceLiteAgent({ localUfrag: 'L', localPwd: PWD, remoteUfrag: 'R' });
  agent.handle(packet, FROM, 0);
  const out = agent.pollTransmit();
  assert.equal(agent.pollTransmit(), undefined, 'at most one answer');
  const authentic = verifyFingerprint(packet) && verifyMessageIntegrity(packet, PWD);
  const event = agent.pollEvent();
  if (event) {
    assert.ok(authentic, 'selection needs an authenticated check');
    assert.equal(event.type, 'selected');
  }
  if (!out) return;
  assert.deepEqual(out.to, FROM);
  assert.ok(verifyFingerprint(out.data));
  const m = decodeStun(out.data);
  assert.ok(!(m instanceof StunDecodeError), 'answers are well-formed');
  assert.ok(m.transactionId.equals(packet.subarray(8, 20)), 'same transaction id');
  assert.equal(m.method, 1);
  if (m.class === StunClass.SuccessResponse) {
    assert.ok(authentic, 'success only for an authenticated check');
    assert.ok(verifyMessageIntegrity(out.data, PWD));
    assert.deepEqual(m.xorMappedAddress, FROM);
  } else {
    assert.equal(m.class, StunClass.ErrorResponse);
    const code = m.errorCode?.code;
    assert.ok(code === 400 || code === 401 || code === 420 || code === 487, `code ${code}`);
    // RFC 8489 §9.1.3: answers to unauthenticated requests are unsigned; the others are signed.
    assert.equal(m.integrityOffset >= 0, code === 420 || code === 487);
    if (code === 420 || code === 487) assert.ok(authentic && verifyMessageIntegrity(out.data, PWD));
  }
}

const checkArb = fc
  .record({
    tid: transactionIdArb,
    useCandidate: fc.boolean(),
    controlling: fc.boolean(),
    username: fc.constantFrom(['L', 'R'], ['L', 'X'], ['Y', 'R']),
    pwd: fc.constantFrom(PWD, 'other-password'),
  })
  .map((r) =>
    connectivityCheck({
      transactionId: r.tid,
      remoteUfrag: r.username[0],
      localUfrag: r.username[1],
      remotePwd: r.pwd,
      priority: PEER_REFLEXIVE_PRIORITY,
      role: { controlling: r.controlling, tieBreaker: 1n },
      useCandidate: r.useCandidate,
    }),
  );

test('mutated connectivity checks: no throw, at most one well-formed answer, success only when authentic', () => {
  fc.assert(
    fc.property(checkArb, fc.option(mutationArb, { nil: undefined }), (packet, mutation) => {
      checkAgent(mutation ? mutate(packet, mutation) : packet);
    }),
    { numRuns: 8000 },
  );
});

test('random bytes behind a STUN header: no throw and no success', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (raw) => {
      const b = Buffer.concat([Buffer.from('000100002112a442', 'hex'), Buffer.alloc(12, 7), raw]);
      b.writeUInt16BE(Math.min(0xffff, raw.length), 2);
      checkAgent(b);
    }),
    { numRuns: 4000 },
  );
});
