// Every attribute and the header fields encode and decode back to the same value, and the
// decoder's rules for unknown, duplicate and trailing attributes (RFC 8489 §5, §14).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeStun,
  encodeStun,
  encodeMessageType,
  decodeMessageType,
  StunDecodeError,
  StunDecodeErrorCode,
  StunClass,
  AttrType,
  BINDING_REQUEST,
  BINDING_SUCCESS,
  BINDING_ERROR,
  BINDING_INDICATION,
  usernameAttribute,
  softwareAttribute,
  priorityAttribute,
  useCandidateAttribute,
  iceControllingAttribute,
  iceControlledAttribute,
  xorMappedAddressAttribute,
  errorCodeAttribute,
  unknownAttributesAttribute,
  verifyMessageIntegrity,
  verifyFingerprint,
  type RawAttribute,
  type StunMessage,
} from '../../../src/core/stun/index.ts';
import { addressArb, transactionIdArb } from './arbitraries.ts';

const TID = Buffer.from('0102030405060708090a0b0c', 'hex');

function roundTrip(attributes: RawAttribute[], tid: Buffer = TID): StunMessage {
  const m = decodeStun(encodeStun({ method: 1, class: StunClass.Request, transactionId: tid, attributes }));
  if (m instanceof StunDecodeError) throw m;
  return m;
}

function decodeError(attributes: RawAttribute[]): StunDecodeError {
  const m = decodeStun(encodeStun({ method: 1, class: StunClass.Request, transactionId: TID, attributes }));
  assert.ok(m instanceof StunDecodeError, 'expected a decode error');
  return m;
}

test('RFC 8489 §5: message type interleaves method and class bits; Binding types are 0x0001/0x0011/0x0101/0x0111', () => {
  assert.equal(encodeMessageType(1, StunClass.Request), BINDING_REQUEST);
  assert.equal(encodeMessageType(1, StunClass.Indication), BINDING_INDICATION);
  assert.equal(encodeMessageType(1, StunClass.SuccessResponse), BINDING_SUCCESS);
  assert.equal(encodeMessageType(1, StunClass.ErrorResponse), BINDING_ERROR);
  assert.equal(encodeMessageType(0xfff, StunClass.ErrorResponse), 0x3fff);
  for (let method = 0; method <= 0xfff; method++) {
    for (const cls of [0, 1, 2, 3] as const) {
      const t = encodeMessageType(method, cls);
      assert.ok(t <= 0x3fff);
      assert.deepEqual(decodeMessageType(t), { method, class: cls });
    }
  }
});

test('USERNAME, SOFTWARE, PRIORITY, USE-CANDIDATE, ICE-CONTROLLING, ICE-CONTROLLED round-trip', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 100 }),
      fc.string({ maxLength: 100 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      (u, s, p, ting, ted) => {
        const m = roundTrip([
          usernameAttribute(u),
          softwareAttribute(s),
          priorityAttribute(p),
          useCandidateAttribute(),
          iceControllingAttribute(ting),
          iceControlledAttribute(ted),
        ]);
        assert.equal(m.username, u.toWellFormed());
        assert.equal(m.software, s.toWellFormed());
        assert.equal(m.priority, p);
        assert.equal(m.useCandidate, true);
        assert.equal(m.iceControlling, ting);
        assert.equal(m.iceControlled, ted);
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(roundTrip([]).useCandidate, false);
});

test('XOR-MAPPED-ADDRESS round-trips IPv4 and IPv6 under any transaction id (RFC 8489 §14.2)', () => {
  fc.assert(
    fc.property(addressArb, transactionIdArb, (a, tid) => {
      const attr = xorMappedAddressAttribute(a, tid);
      assert.equal(attr.value.length, a.family === 'IPv4' ? 8 : 20);
      assert.deepEqual(roundTrip([attr], tid).xorMappedAddress, a);
    }),
    { numRuns: 3000 },
  );
});

test('XOR-MAPPED-ADDRESS: bytes on the wire are XORed (port with 0x2112, IPv4 with the cookie)', () => {
  const attr = xorMappedAddressAttribute({ address: '192.0.2.1', port: 32853, family: 'IPv4' }, TID);
  assert.deepEqual(Buffer.from(attr.value), Buffer.from('0001a147e112a643', 'hex'));
});

test('XOR-MAPPED-ADDRESS encodes an IPv4-mapped IPv6 address (dual-stack socket) as IPv4', () => {
  const attr = xorMappedAddressAttribute({ address: '::ffff:192.0.2.1', port: 32853, family: 'IPv6' }, TID);
  assert.deepEqual(Buffer.from(attr.value), Buffer.from('0001a147e112a643', 'hex'));
  assert.deepEqual(roundTrip([attr]).xorMappedAddress, { address: '192.0.2.1', port: 32853, family: 'IPv4' });
});

test('XOR-MAPPED-ADDRESS with an unknown family or a wrong length is refused', () => {
  for (const hex of ['0003a147e112a643', '0001a147e112a6', '0002a147e112a643', '0001a147e112a64300000000', '']) {
    const e = decodeError([{ type: AttrType.XorMappedAddress, value: Buffer.from(hex, 'hex') }]);
    assert.equal(e.code, StunDecodeErrorCode.BadAttribute);
    assert.equal(e.attributeType, AttrType.XorMappedAddress);
  }
});

test('ERROR-CODE round-trips every code 300..699 with its reason; bad class or number is refused', () => {
  for (let code = 300; code <= 699; code++) {
    assert.deepEqual(roundTrip([errorCodeAttribute({ code, reason: `r${code}` })]).errorCode, { code, reason: `r${code}` });
  }
  assert.throws(() => errorCodeAttribute({ code: 299, reason: '' }), RangeError);
  assert.throws(() => errorCodeAttribute({ code: 700, reason: '' }), RangeError);
  for (const hex of ['00000200', '00000700', '00000464', '000004', '00000401ff']) {
    assert.equal(decodeError([{ type: AttrType.ErrorCode, value: Buffer.from(hex, 'hex') }]).code, StunDecodeErrorCode.BadAttribute, hex);
  }
  // The 21 reserved bits are ignored on receipt (RFC 8489 §14.8).
  assert.deepEqual(roundTrip([{ type: AttrType.ErrorCode, value: Buffer.from('fffffc57', 'hex') }]).errorCode, { code: 487, reason: '' });
});

test('UNKNOWN-ATTRIBUTES round-trips; an odd length is refused', () => {
  assert.deepEqual(roundTrip([unknownAttributesAttribute([0x0001, 0x7fff, 0x0015])]).unknownAttributes, [0x0001, 0x7fff, 0x0015]);
  assert.equal(decodeError([{ type: AttrType.UnknownAttributes, value: Buffer.from([0, 1, 2]) }]).code, StunDecodeErrorCode.BadAttribute);
});

test('fixed-size attributes with the wrong length are refused', () => {
  for (const [type, len] of [
    [AttrType.Priority, 3],
    [AttrType.Priority, 8],
    [AttrType.UseCandidate, 4],
    [AttrType.IceControlling, 4],
    [AttrType.IceControlled, 9],
  ]) {
    const e = decodeError([{ type, value: Buffer.alloc(len) }]);
    assert.equal(e.code, StunDecodeErrorCode.BadAttribute);
    assert.equal(e.header?.class, StunClass.Request, 'the header is kept so a server can answer 400');
  }
});

test('unknown comprehension-optional attributes are skipped; comprehension-required ones are reported once each', () => {
  const m = roundTrip([
    { type: 0x8fff, value: Buffer.from('x') },
    { type: 0x7777, value: Buffer.alloc(3) },
    { type: 0x7777, value: Buffer.alloc(0) },
    { type: 0x0003, value: Buffer.alloc(4) },
  ]);
  assert.deepEqual(m.unknownRequired, [0x7777, 0x0003]);
  assert.equal(m.attributes.length, 4, 'kept raw, in order');
});

test('only the first of duplicate attributes counts (RFC 8489 §14)', () => {
  const m = roundTrip([
    usernameAttribute('first'),
    usernameAttribute('second'),
    priorityAttribute(7),
    { type: AttrType.Priority, value: Buffer.alloc(1) },
  ]);
  assert.equal(m.username, 'first');
  assert.equal(m.priority, 7);
});

test('attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 §9, §14.5)', () => {
  const sealed = encodeStun(
    { method: 1, class: StunClass.Request, transactionId: TID, attributes: [usernameAttribute('a:b')] },
    { integrityKey: 'pw' },
  );
  // Append USERNAME "evil", a malformed PRIORITY and an unknown required attribute after MI.
  const tail = Buffer.from('00060004' + Buffer.from('evil').toString('hex') + '002400010000000077770000', 'hex');
  const b = Buffer.concat([sealed, tail]);
  b.writeUInt16BE(b.length - 20, 2);
  const m = decodeStun(b);
  assert.ok(!(m instanceof StunDecodeError));
  assert.equal(m.username, 'a:b');
  assert.equal(m.priority, undefined);
  assert.deepEqual(m.unknownRequired, []);
  assert.equal(verifyMessageIntegrity(b, 'pw'), true);
});

test('FINGERPRINT must be last and 4 bytes (RFC 8489 §14.7); MESSAGE-INTEGRITY must be 20 bytes', () => {
  const fpThenMore = encodeStun({
    method: 1,
    class: 0,
    transactionId: TID,
    attributes: [{ type: AttrType.Fingerprint, value: Buffer.alloc(4) }, usernameAttribute('x')],
  });
  assert.equal((decodeStun(fpThenMore) as StunDecodeError).code, StunDecodeErrorCode.FingerprintNotLast);
  assert.equal(verifyFingerprint(fpThenMore), false);
  assert.equal(decodeError([{ type: AttrType.Fingerprint, value: Buffer.alloc(8) }]).code, StunDecodeErrorCode.BadAttribute);
  assert.equal(decodeError([{ type: AttrType.MessageIntegrity, value: Buffer.alloc(32) }]).code, StunDecodeErrorCode.BadAttribute);
});

test('header refusals have distinct codes', () => {
  const ok = encodeStun({ method: 1, class: 0, transactionId: TID, attributes: [] });
  const with_ = (f: (b: Buffer) => void): string => {
    const b = Buffer.from(ok);
    f(b);
    return (decodeStun(b) as StunDecodeError).code;
  };
  assert.equal((decodeStun(ok.subarray(0, 19)) as StunDecodeError).code, StunDecodeErrorCode.TooShort);
  assert.equal(
    with_((b) => {
      b[0] |= 0x80;
    }),
    StunDecodeErrorCode.NotStun,
  );
  assert.equal(
    with_((b) => {
      b[0] |= 0x40;
    }),
    StunDecodeErrorCode.NotStun,
  );
  assert.equal(
    with_((b) => {
      b[7] ^= 1;
    }),
    StunDecodeErrorCode.BadCookie,
  );
  assert.equal(
    with_((b) => {
      b[3] = 4;
    }),
    StunDecodeErrorCode.BadLength,
  );
  const odd = Buffer.concat([ok, Buffer.alloc(2)]);
  odd.writeUInt16BE(2, 2);
  assert.equal((decodeStun(odd) as StunDecodeError).code, StunDecodeErrorCode.BadLength);
});

test('encode refuses what no valid message can carry', () => {
  assert.throws(() => encodeStun({ method: 1, class: 0, transactionId: Buffer.alloc(11), attributes: [] }), RangeError);
  assert.throws(() => encodeStun({ method: 0x1000, class: 0, transactionId: TID, attributes: [] }), RangeError);
  assert.throws(() => usernameAttribute('x'.repeat(509)), RangeError);
  assert.throws(() => priorityAttribute(2 ** 32), RangeError);
  assert.throws(() => iceControllingAttribute(-1n), RangeError);
});
