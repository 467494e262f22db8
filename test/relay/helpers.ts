// Shared helpers for the relay tests: a seeded keyring, minted tokens, ICE connectivity checks
// as a browser would send them (RFC 8445 §7.2.2: USERNAME server:client, MESSAGE-INTEGRITY with
// the server's ICE password, FINGERPRINT), and RTP-shaped packets.
import type { TransportAddress } from '../../src/core/address.ts';
import { seededRng } from '../../src/core/rng.ts';
import {
  StunClass,
  StunMethod,
  encodeStun,
  iceControllingAttribute,
  priorityAttribute,
  usernameAttribute,
} from '../../src/core/stun/index.ts';
import { Keyring, mint } from '../../src/core/token/index.ts';

export const rng = seededRng('relay-tests');
export const keyring = Keyring.generate(seededRng('relay-test-keys'), 7);
export const KEYS_TEXT = keyring.toString();

export function v4(address: string, port: number): TransportAddress {
  return { address, port, family: 'IPv4' };
}

export function mintFor(dest: TransportAddress, now = Date.now()): { ufrag: string; pwd: string } {
  return mint(dest, keyring, now, rng);
}

/** A Binding Request with USERNAME `ufrag:clientUfrag`, MESSAGE-INTEGRITY keyed with `pwd`. */
export function stunCheck(ufrag: string, pwd: string, clientUfrag = 'cli1'): Buffer {
  return encodeStun(
    {
      method: StunMethod.Binding,
      class: StunClass.Request,
      transactionId: rng.bytes(12),
      attributes: [usernameAttribute(`${ufrag}:${clientUfrag}`), priorityAttribute(1853824767), iceControllingAttribute(1n)],
    },
    { integrityKey: pwd, fingerprint: true },
  );
}

/** A 172-byte RTP-shaped packet (version 2) whose bytes 12.. carry `seq` for identification. */
export function rtp(seq: number, length = 172): Buffer {
  const b = Buffer.alloc(length);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq >>> 0, 12);
  return b;
}
