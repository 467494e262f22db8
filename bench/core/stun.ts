// STUN micro-benchmarks: the relay's first-packet path (peekUsername, checkIntegrity) and the
// transceiver's full decode, on a browser-shaped ICE check (USERNAME, PRIORITY,
// ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT).
import type { BenchRow } from '../bench-row.ts';
import { microsPerCall } from '../bench-row.ts';
import { checkIntegrity, decodeStun, peekUsername, verifyFingerprint } from '../../src/core/stun/index.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../../src/core/ice/binding-request.ts';

export async function run(): Promise<BenchRow[]> {
  const password = 'Ab3dEf6hIj9kLm2nOp5qRs8tUv';
  const packet = connectivityCheck({
    transactionId: Buffer.from('0102030405060708090a0b0c', 'hex'),
    localUfrag: 'cLnT',
    remoteUfrag: 'R0utingT0kenR0utingT0kenR0utingT0kenR0utingT0ken',
    remotePwd: password,
    priority: PEER_REFLEXIVE_PRIORITY,
    role: { controlling: true, tieBreaker: 0x0123456789abcdefn },
    useCandidate: true,
  });
  if (!checkIntegrity(packet, password) || peekUsername(packet) === undefined) throw new Error('bench packet is invalid');
  const note = `${packet.length}-byte Binding Request`;
  return [
    { name: 'stun peekUsername', value: microsPerCall(() => peekUsername(packet)), unit: 'µs/call', note },
    { name: 'stun checkIntegrity (HMAC-SHA1)', value: microsPerCall(() => checkIntegrity(packet, password)), unit: 'µs/call', note },
    { name: 'stun verifyFingerprint (CRC-32)', value: microsPerCall(() => verifyFingerprint(packet)), unit: 'µs/call', note },
    { name: 'stun decodeStun (full)', value: microsPerCall(() => decodeStun(packet)), unit: 'µs/call', note },
  ];
}
