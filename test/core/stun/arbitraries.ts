// fast-check generators for STUN tests: valid messages (through encodeStun) and the hostile
// mutations of them the property tests feed to the decoder.
import fc from 'fast-check';
import {
  encodeStun,
  usernameAttribute,
  priorityAttribute,
  useCandidateAttribute,
  iceControllingAttribute,
  iceControlledAttribute,
  xorMappedAddressAttribute,
  errorCodeAttribute,
  softwareAttribute,
  unknownAttributesAttribute,
  type RawAttribute,
  type StunClass,
} from '../../../src/core/stun/index.ts';
import { bytesToIp } from '../../../src/core/address.ts';

export const transactionIdArb = fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => Buffer.from(b));

export const addressArb = fc
  .oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
  .chain((ip) =>
    fc.integer({ min: 0, max: 65535 }).map((port) => ({
      address: bytesToIp(ip),
      port,
      family: ip.length === 4 ? ('IPv4' as const) : ('IPv6' as const),
    })),
  );

/** Types decodeStun interprets; random values for them would be invalid, not unknown. */
const KNOWN = new Set([0x0006, 0x0008, 0x0009, 0x000a, 0x0020, 0x0024, 0x0025, 0x8022, 0x8028, 0x8029, 0x802a]);

const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });

/** One attribute, valid for its type; transaction id needed by XOR-MAPPED-ADDRESS. */
export function attributeArb(tid: Buffer): fc.Arbitrary<RawAttribute> {
  return fc.oneof(
    fc.string({ maxLength: 40 }).map(usernameAttribute),
    fc.string({ maxLength: 40 }).map(softwareAttribute),
    fc.integer({ min: 0, max: 0xffffffff }).map(priorityAttribute),
    fc.constant(useCandidateAttribute()),
    u64.map(iceControllingAttribute),
    u64.map(iceControlledAttribute),
    addressArb.map((a) => xorMappedAddressAttribute(a, tid)),
    fc.record({ code: fc.integer({ min: 300, max: 699 }), reason: fc.string({ maxLength: 30 }) }).map(errorCodeAttribute),
    fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 6 }).map(unknownAttributesAttribute),
    // Unknown attributes, comprehension-optional and -required.
    fc.record({ type: fc.integer({ min: 0, max: 0xffff }), value: fc.uint8Array({ maxLength: 24 }) }).filter((a) => !KNOWN.has(a.type)),
  );
}

export interface ValidPacket {
  bytes: Buffer;
  key: string;
  withIntegrity: boolean;
  withFingerprint: boolean;
}

export const validPacketArb: fc.Arbitrary<ValidPacket> = transactionIdArb.chain((tid) =>
  fc
    .record({
      cls: fc.integer({ min: 0, max: 3 }).map((c) => c as StunClass),
      method: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xfff })),
      attributes: fc.array(attributeArb(tid), { maxLength: 6 }),
      key: fc.string({ minLength: 1, maxLength: 30 }),
      withIntegrity: fc.boolean(),
      withFingerprint: fc.boolean(),
    })
    .map((r) => ({
      bytes: encodeStun(
        { method: r.method, class: r.cls, transactionId: tid, attributes: r.attributes },
        { integrityKey: r.withIntegrity ? r.key : undefined, fingerprint: r.withFingerprint },
      ),
      key: r.key,
      withIntegrity: r.withIntegrity,
      withFingerprint: r.withFingerprint,
    })),
);

/** A Binding Request as an ICE peer sends it (USERNAME first, then maybe more, MI, FP). */
export const bindingRequestArb = transactionIdArb.chain((tid) =>
  fc
    .record({
      username: fc.string({ minLength: 1, maxLength: 60 }),
      rest: fc.array(attributeArb(tid), { maxLength: 4 }),
      key: fc.string({ minLength: 1, maxLength: 30 }),
    })
    .map((r) => ({
      bytes: encodeStun(
        { method: 1, class: 0, transactionId: tid, attributes: [usernameAttribute(r.username), ...r.rest] },
        { integrityKey: r.key, fingerprint: true },
      ),
      username: r.username,
      key: r.key,
    })),
);

/** Offsets of the TLV headers of a well-framed message. */
export function attributeOffsets(b: Buffer): number[] {
  const out: number[] = [];
  for (let off = 20; off + 4 <= b.length; off += 4 + ((b.readUInt16BE(off + 2) + 3) & ~3)) out.push(off);
  return out;
}

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; value: number }
  | { kind: 'attr-length'; which: number; value: number }
  | { kind: 'attr-type'; which: number; value: number }
  | { kind: 'append'; bytes: Uint8Array };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('length' as const),
    value: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -8, max: 8 })),
  }),
  fc.record({
    kind: fc.constant('attr-length' as const),
    which: fc.nat(),
    value: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -8, max: 8 })),
  }),
  fc.record({ kind: fc.constant('attr-type' as const), which: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
);

/** Applies a mutation to a copy; small `value`s for length edits are deltas from the current one. */
export function mutate(packet: Buffer, m: Mutation): Buffer {
  const b = Buffer.from(packet);
  const offsets = attributeOffsets(b);
  const edit16 = (at: number, v: number): void => {
    const cur = b.readUInt16BE(at);
    b.writeUInt16BE(v >= -8 && v <= 8 ? (cur + v) & 0xffff : v, at);
  };
  switch (m.kind) {
    case 'flip':
      b[m.at % b.length] ^= 1 << m.bit;
      return b;
    case 'truncate':
      return b.subarray(0, m.at % b.length);
    case 'length':
      edit16(2, m.value);
      return b;
    case 'attr-length':
      if (offsets.length) edit16(offsets[m.which % offsets.length] + 2, m.value);
      return b;
    case 'attr-type':
      if (offsets.length) b.writeUInt16BE(m.value, offsets[m.which % offsets.length]);
      return b;
    case 'append': {
      const out = Buffer.concat([b, m.bytes]);
      out.writeUInt16BE((out.length - 20) & 0xffff, 2);
      return out;
    }
  }
}
