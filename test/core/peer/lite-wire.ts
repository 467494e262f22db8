// A lite AudioPeer (the transceiver's side) driven by hand on the wire: real checks from a
// controlling client, the peer's output read back, DTLS handshake types read off plaintext
// records. Shared by the tests of what the lite side sends, and when (issues #18, #19).
import type { TransportAddress } from '../../../src/core/address.ts';
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { connectivityCheck } from '../../../src/core/ice/binding-request.ts';
import { ADDRESS_PATHS, AudioPeer } from '../../../src/core/peer/index.ts';
import type { PeerTransmit } from '../../../src/core/peer/index.ts';
import { seededRng } from '../../../src/core/rng.ts';

export const CLIENT: TransportAddress = { address: '198.51.100.20', port: 50000, family: 'IPv4' };
export const certLite = generateCertificate(seededRng('wire-lite-cert'));
export const certClient = generateCertificate(seededRng('wire-client-cert'));
/** The lite side's ufrag is a routing token on the transceiver: checks are the size real ones are. */
export const lite = { ufrag: 'liteufrag'.repeat(7), pwd: 'litepasswordlitepassword' };
export const client = { ufrag: 'ctlufrag', pwd: 'ctlpasswordctlpassword00' };
/** RFC 8489 §5: Binding method, request class. */
export const STUN_BINDING_REQUEST = 0x0001;

export function litePeer(seed: string, dtlsRole: 'client' | 'server'): AudioPeer<TransportAddress> {
  return new AudioPeer({
    rng: seededRng(`${seed}-lite`),
    paths: ADDRESS_PATHS,
    dtlsRole,
    certificate: certLite,
    remoteFingerprint: certClient.fingerprint,
    ice: { role: 'lite', localUfrag: lite.ufrag, localPwd: lite.pwd, remoteUfrag: client.ufrag, remotePwd: client.pwd },
    ssrc: 1,
    cname: 'lite',
    payloadType: 111,
  });
}

let tid = 0;
/** A valid (nominating) check from the client, as a real one is sized. */
export function check(): Buffer {
  const transactionId = Buffer.alloc(12);
  transactionId.writeUInt32BE(++tid, 8);
  return connectivityCheck({
    transactionId,
    localUfrag: client.ufrag,
    remoteUfrag: lite.ufrag,
    remotePwd: lite.pwd,
    priority: 1,
    role: { controlling: true, tieBreaker: 1n },
    useCandidate: true,
  });
}

/** What the peer queued to send (its events are discarded). */
export function drainTransmits(p: AudioPeer<TransportAddress>): PeerTransmit<TransportAddress>[] {
  const out: PeerTransmit<TransportAddress>[] = [];
  for (let t = p.pollTransmit(); t; t = p.pollTransmit()) out.push(t);
  while (p.pollEvent());
  return out;
}

/** The handshake message types in a plaintext (epoch 0) DTLS datagram's records. */
export function handshakeTypes(d: Buffer): number[] {
  const types: number[] = [];
  for (let off = 0; off + 13 <= d.length; off += 13 + d.readUInt16BE(off + 11)) {
    if (d[off] === 22 && d.readUInt16BE(off + 3) === 0 && off + 13 < d.length) types.push(d[off + 13]);
  }
  return types;
}
