// The relay's first-packet checks: peekUsername and checkIntegrity on raw bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peekUsername, checkIntegrity } from '../../../src/core/stun/index.ts';
import {
  SAMPLE_REQUEST,
  SAMPLE_IPV4_RESPONSE,
  SAMPLE_LONG_TERM_REQUEST,
  SHORT_TERM_PASSWORD,
  LONG_TERM_USERNAME,
} from './rfc5769-vectors.ts';

const copy = (b: Buffer): Buffer => Buffer.from(b);

test('peekUsername reads USERNAME of the RFC 5769 §2.1 and §2.4 requests', () => {
  assert.equal(peekUsername(SAMPLE_REQUEST), 'evtj:h6vY');
  assert.equal(peekUsername(SAMPLE_LONG_TERM_REQUEST), LONG_TERM_USERNAME);
});

test('peekUsername rejects responses, indications and other methods', () => {
  assert.equal(peekUsername(SAMPLE_IPV4_RESPONSE), undefined);
  for (const type of [0x0011, 0x0101, 0x0111, 0x0003, 0x4001, 0x8001]) {
    const b = copy(SAMPLE_REQUEST);
    b.writeUInt16BE(type, 0);
    assert.equal(peekUsername(b), undefined, type.toString(16));
  }
});

test('peekUsername rejects bad framing: cookie, length field, truncation, trailing bytes', () => {
  const badCookie = copy(SAMPLE_REQUEST);
  badCookie[4] ^= 1;
  assert.equal(peekUsername(badCookie), undefined);
  for (const len of [0x54, 0x5c, 0x57, 0x59, 0]) {
    const b = copy(SAMPLE_REQUEST);
    b.writeUInt16BE(len, 2);
    assert.equal(peekUsername(b), undefined, `length ${len}`);
  }
  for (let n = 0; n < SAMPLE_REQUEST.length; n++) assert.equal(peekUsername(SAMPLE_REQUEST.subarray(0, n)), undefined, `truncated to ${n}`);
  assert.equal(peekUsername(Buffer.concat([SAMPLE_REQUEST, Buffer.alloc(4)])), undefined);
});

test('peekUsername rejects an attribute whose length runs past the message', () => {
  const b = copy(SAMPLE_REQUEST);
  b.writeUInt16BE(0x0100, 20 + 2); // SOFTWARE claims 256 bytes
  assert.equal(peekUsername(b), undefined);
});

test('peekUsername ignores a USERNAME after MESSAGE-INTEGRITY (RFC 8489 §14.5)', () => {
  // SAMPLE_REQUEST: SOFTWARE@20, PRIORITY@40, ICE-CONTROLLED@48, USERNAME@60, MI@76, FP@100.
  assert.equal(SAMPLE_REQUEST.readUInt16BE(60), 0x0006);
  const tail = Buffer.from('0006000361626300' + '8028000400000000', 'hex'); // USERNAME "abc", FINGERPRINT
  const withLateUsername = Buffer.concat([SAMPLE_REQUEST.subarray(0, 100), tail]);
  withLateUsername.writeUInt16BE(withLateUsername.length - 20, 2);
  assert.equal(peekUsername(withLateUsername), 'evtj:h6vY', 'the USERNAME before MI wins');
  // Rename the real USERNAME to an unknown optional type: only the late one is left.
  const onlyLate = Buffer.from(withLateUsername);
  onlyLate.writeUInt16BE(0x8fff, 60);
  assert.equal(peekUsername(onlyLate), undefined);
});

test('peekUsername rejects a USERNAME that is not UTF-8 or is 509 bytes or longer (RFC 8489 §14.3)', () => {
  const make = (value: Buffer): Buffer => {
    const padded = Buffer.alloc((value.length + 3) & ~3);
    value.copy(padded);
    const msg = Buffer.concat([
      Buffer.from('000100002112a442000000000000000000000000', 'hex'),
      Buffer.from([0, 6, value.length >> 8, value.length & 0xff]),
      padded,
    ]);
    msg.writeUInt16BE(msg.length - 20, 2);
    return msg;
  };
  assert.equal(peekUsername(make(Buffer.from('a:b'))), 'a:b');
  assert.equal(peekUsername(make(Buffer.from([0x61, 0xff, 0x62]))), undefined);
  assert.equal(peekUsername(make(Buffer.alloc(508, 0x61))), 'a'.repeat(508));
  assert.equal(peekUsername(make(Buffer.alloc(509, 0x61))), undefined);
});

test('checkIntegrity verifies the RFC 5769 §2.1 request with its ICE password', () => {
  assert.equal(checkIntegrity(SAMPLE_REQUEST, SHORT_TERM_PASSWORD), true);
  assert.equal(checkIntegrity(SAMPLE_REQUEST, SHORT_TERM_PASSWORD + 'x'), false);
  assert.equal(checkIntegrity(SAMPLE_REQUEST, ''), false);
});

test('checkIntegrity ignores FINGERPRINT after MESSAGE-INTEGRITY but fails on any change before it', () => {
  const noFp = copy(SAMPLE_REQUEST.subarray(0, SAMPLE_REQUEST.length - 8));
  noFp.writeUInt16BE(noFp.length - 20, 2);
  assert.equal(checkIntegrity(noFp, SHORT_TERM_PASSWORD), true);
  for (let i = 0; i < 100; i++) {
    if (i === 2 || i === 3) continue; // length field: framing check
    const b = copy(SAMPLE_REQUEST);
    b[i] ^= 0x10;
    // Flipping a padding byte (USERNAME pads at 77..79) changes the HMAC too: it is over bytes.
    assert.equal(checkIntegrity(b, SHORT_TERM_PASSWORD), false, `flip at ${i}`);
  }
});

test('checkIntegrity is false without MESSAGE-INTEGRITY, with a short one, or on garbage', () => {
  const noMi = copy(SAMPLE_REQUEST.subarray(0, 76));
  noMi.writeUInt16BE(noMi.length - 20, 2);
  assert.equal(checkIntegrity(noMi, SHORT_TERM_PASSWORD), false);
  const shortMi = copy(SAMPLE_REQUEST.subarray(0, 96));
  shortMi.writeUInt16BE(0x0010, 82);
  shortMi.writeUInt16BE(shortMi.length - 20, 2);
  assert.equal(checkIntegrity(shortMi, SHORT_TERM_PASSWORD), false);
  assert.equal(checkIntegrity(Buffer.alloc(0), SHORT_TERM_PASSWORD), false);
  assert.equal(checkIntegrity(Buffer.alloc(20), SHORT_TERM_PASSWORD), false);
});
