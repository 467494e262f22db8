// Hostile input for the STUN parsers (STYLE.md rule 5): random bytes and mutations of valid
// packets. Properties: nothing throws; every refusal is a typed StunDecodeError; results do
// not depend on bytes outside the input; peekUsername/checkIntegrity agree with decodeStun.
// Total cases per run: 30k + 30k + 30k + 15k + 10k + 5k = 120k.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeStun,
  encodeStun,
  peekUsername,
  checkIntegrity,
  verifyFingerprint,
  verifyMessageIntegrity,
  isWellFramed,
  StunDecodeError,
  StunDecodeErrorCode,
  StunClass,
  type StunMessage,
} from '../../../src/core/stun/index.ts';
import { validPacketArb, bindingRequestArb, mutationArb, mutate } from './arbitraries.ts';

const CODES = new Set<string>(Object.values(StunDecodeErrorCode));
const FRAMING = new Set<string>([
  StunDecodeErrorCode.TooShort,
  StunDecodeErrorCode.NotStun,
  StunDecodeErrorCode.BadCookie,
  StunDecodeErrorCode.BadLength,
  StunDecodeErrorCode.AttributeOverrun,
]);

/** Everything the parsers say about `b`, in a comparable form. */
function observe(b: Buffer, key: string): unknown {
  const m = decodeStun(b);
  return {
    decoded: m instanceof StunDecodeError ? { code: m.code, attr: m.attributeType, header: m.header } : m,
    peek: peekUsername(b),
    integrity: checkIntegrity(b, key),
    fingerprint: verifyFingerprint(b),
    framed: isWellFramed(b),
  };
}

function checkInvariants(b: Buffer, key: string): void {
  const m = decodeStun(b);
  if (m instanceof StunDecodeError) {
    assert.ok(CODES.has(m.code), m.code);
    // Framing errors and well-framedness must agree exactly.
    assert.equal(FRAMING.has(m.code), !isWellFramed(b), m.code);
  } else {
    assert.ok(isWellFramed(b));
  }
  const peek = peekUsername(b);
  if (peek !== undefined) {
    // A peeked USERNAME means a well-framed Binding Request: full decode either agrees or
    // refuses a (non-framing) attribute.
    assert.equal((b[0] << 8) | b[1], 0x0001);
    if (m instanceof StunDecodeError) assert.ok(!FRAMING.has(m.code), m.code);
    else assert.equal(m.username, peek);
  } else if (!(m instanceof StunDecodeError) && m.method === 1 && m.class === StunClass.Request) {
    assert.equal(m.username, undefined);
  }
  if (checkIntegrity(b, key)) assert.ok(!(m instanceof StunDecodeError) ? m.integrityOffset >= 0 : !FRAMING.has(m.code));
  if (verifyFingerprint(b) && !(m instanceof StunDecodeError)) assert.ok(m.hasFingerprint);
}

test('random bytes: never throws, refusals are typed, framing verdicts agree', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (raw) => {
      checkInvariants(Buffer.from(raw), 'k');
    }),
    { numRuns: 30_000 },
  );
});

test('random TLV soup behind a valid header: never throws, refusals are typed', () => {
  const soup = fc.array(
    fc.record({
      type: fc.oneof(
        fc.constantFrom(0x0006, 0x0008, 0x0009, 0x000a, 0x0020, 0x0024, 0x0025, 0x8022, 0x8028, 0x8029, 0x802a),
        fc.integer({ min: 0, max: 0xffff }),
      ),
      value: fc.uint8Array({ maxLength: 24 }),
    }),
    { maxLength: 6 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x3fff }), soup, (type, attrs) => {
      const parts = [Buffer.from('000000002112a442000102030405060708090a0b', 'hex')];
      for (const a of attrs) {
        const h = Buffer.alloc(4);
        h.writeUInt16BE(a.type, 0);
        h.writeUInt16BE(a.value.length, 2);
        parts.push(h, Buffer.from(a.value), Buffer.alloc((4 - (a.value.length % 4)) % 4));
      }
      const b = Buffer.concat(parts);
      b.writeUInt16BE(type, 0);
      b.writeUInt16BE(b.length - 20, 2);
      checkInvariants(b, 'k');
    }),
    { numRuns: 30_000 },
  );
});

test('valid packets round-trip and verify; mutations never throw and never pass integrity', () => {
  fc.assert(
    fc.property(validPacketArb, mutationArb, (p, mutation) => {
      const m = decodeStun(p.bytes) as StunMessage;
      assert.ok(!(m instanceof StunDecodeError), `valid packet refused: ${(m as unknown as StunDecodeError).code}`);
      assert.equal(verifyFingerprint(p.bytes), p.withFingerprint);
      assert.equal(verifyMessageIntegrity(p.bytes, p.key), p.withIntegrity);
      const again = encodeStun(m, { integrityKey: p.withIntegrity ? p.key : undefined, fingerprint: p.withFingerprint });
      assert.deepEqual(again, p.bytes, 'decode → encode is the identity on what encodeStun produces');
      const bad = mutate(p.bytes, mutation);
      checkInvariants(bad, p.key);
      // Any change to the bytes the HMAC covers must break MESSAGE-INTEGRITY (only the
      // FINGERPRINT value and bytes appended after MI, which §14.5 ignores, are outside it).
      if (p.withIntegrity && !bad.equals(p.bytes) && verifyMessageIntegrity(bad, p.key)) {
        const mi = m.integrityOffset;
        // Covered: the type (0..1), cookie, transaction id and attributes up to MI (4..mi+24);
        // the length field (2..3) is replaced by the §14.5 adjusted length while hashing.
        const covered = (b: Buffer): Buffer => Buffer.concat([b.subarray(0, 2), b.subarray(4, mi + 24)]);
        assert.ok(bad.length >= mi + 24 && covered(bad).equals(covered(p.bytes)), 'integrity passed after a covered change');
      }
    }),
    { numRuns: 30_000 },
  );
});

test('peekUsername agrees with decodeStun on valid and mutated Binding Requests; checkIntegrity holds', () => {
  fc.assert(
    fc.property(bindingRequestArb, mutationArb, (r, mutation) => {
      assert.equal(peekUsername(r.bytes), r.username);
      assert.equal(checkIntegrity(r.bytes, r.key), true);
      assert.equal(checkIntegrity(r.bytes, r.key + 'x'), false);
      checkInvariants(mutate(r.bytes, mutation), r.key);
    }),
    { numRuns: 15_000 },
  );
});

test('results do not depend on bytes outside the input (sentinel-filled surroundings)', () => {
  fc.assert(
    fc.property(validPacketArb, mutationArb, fc.nat(64), fc.nat(64), (p, mutation, before, after) => {
      const b = mutate(p.bytes, mutation);
      const alone = observe(Buffer.from(b), p.key);
      for (const fill of [0x00, 0xff, 0x80]) {
        const big = Buffer.alloc(before + b.length + after, fill);
        b.copy(big, before);
        assert.deepEqual(observe(big.subarray(before, before + b.length), p.key), alone);
      }
    }),
    { numRuns: 10_000 },
  );
});

test('the decoded message does not alias the input buffer', () => {
  fc.assert(
    fc.property(validPacketArb, (p) => {
      const b = Buffer.from(p.bytes);
      const m = decodeStun(b);
      if (m instanceof StunDecodeError) return;
      const before = JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      b.fill(0xee);
      assert.equal(
        JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        before,
      );
    }),
    { numRuns: 5_000 },
  );
});
