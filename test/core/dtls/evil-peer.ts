// Test-only: a misbehaving DTLS peer assembled from the module's internal parts (the real client
// or server handshake logic, with a minimal record layer) whose outgoing flights a test may
// rewrite before they are sent — to produce what an honest endpoint never would, such as a
// Finished with wrong verify_data under valid record protection.
import { ClientHandshake } from '../../../src/core/dtls/client.ts';
import type { DtlsCertificate } from '../../../src/core/dtls/certificate.ts';
import { nodePeerKeys, parseFingerprint } from '../../../src/core/dtls/certificate.ts';
import { nodeX25519 } from '../../../src/core/dtls/ecdhe.ts';
import { SrtpProfile } from '../../../src/core/dtls/extensions.ts';
import { packFlight } from '../../../src/core/dtls/flight.ts';
import type { FlightEntry } from '../../../src/core/dtls/flight.ts';
import { parseHandshakeFragments } from '../../../src/core/dtls/handshake.ts';
import { aeadKeyBlock, prf } from '../../../src/core/dtls/prf.ts';
import { Reassembler } from '../../../src/core/dtls/reassembly.ts';
import { AeadRecordCipher, ContentType, DTLS12, encodeRecord, parseRecords } from '../../../src/core/dtls/record.ts';
import { keyKind, nodeSigner } from '../../../src/core/dtls/signature.ts';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites.ts';
import { ServerHandshake } from '../../../src/core/dtls/server.ts';
import type { HandshakeHost, HandshakeRole } from '../../../src/core/dtls/types.ts';
import type { DtlsEndpoint } from '../../../src/core/dtls/index.ts';
import { seededRng } from '../../../src/core/rng.ts';

export class EvilPeer {
  readonly out: Buffer[] = [];
  error: unknown;
  connected = false;
  readonly #role: 'client' | 'server';
  readonly #handshake: HandshakeRole;
  readonly #reassembler = new Reassembler();
  readonly #writeSeq = [0, 0];
  #write: AeadRecordCipher | undefined;
  #read: AeadRecordCipher | undefined;
  #messageSeq = 0;

  constructor(
    role: 'client' | 'server',
    certificate: DtlsCertificate,
    remoteFingerprint: string,
    mutate: (flight: FlightEntry[]) => FlightEntry[],
    suites?: readonly string[],
  ) {
    this.#role = role;
    const host: HandshakeHost = {
      certificate,
      certificateKind: keyKind(certificate.privateKey)!,
      remoteFingerprint: parseFingerprint(remoteFingerprint)!,
      rng: seededRng(`evil-${role}`),
      x25519: nodeX25519,
      prf,
      peerKeys: nodePeerKeys,
      signer: nodeSigner,
      srtpProfiles: [SrtpProfile.SRTP_AES128_CM_HMAC_SHA1_80],
      cookie: () => false,
      cipherSuites: CIPHER_SUITES.filter((s) => suites === undefined || suites.includes(s.name)),
      nextMessageSeq: () => this.#messageSeq++,
      setMessageSeq: (s) => {
        this.#messageSeq = s;
      },
      sendFlight: (entries) => {
        this.out.push(
          ...packFlight(mutate(entries), 1200, (type, epoch, payload) => {
            const seq = this.#writeSeq[epoch]++;
            return epoch === 0 ? encodeRecord(type, DTLS12, 0, seq, payload) : this.#write!.seal(type, DTLS12, epoch, seq, payload);
          }),
        );
      },
      sendHelloVerifyRequest: () => {},
      installKeys: (s) => {
        const k = aeadKeyBlock(prf, s.suite, s.masterSecret, s.clientRandom, s.serverRandom);
        const c = new AeadRecordCipher(s.suite, k.clientKey, k.clientIv);
        const sv = new AeadRecordCipher(s.suite, k.serverKey, k.serverIv);
        this.#write = role === 'client' ? c : sv;
        this.#read = role === 'client' ? sv : c;
      },
      connected: () => {
        this.connected = true;
      },
    };
    this.#handshake = role === 'client' ? new ClientHandshake(host) : new ServerHandshake(host);
  }

  start(): void {
    this.#handshake.start(0);
  }

  handle(datagram: Buffer): void {
    try {
      for (const rec of parseRecords(datagram)) {
        const pt = rec.epoch === 0 ? rec.fragment : this.#read?.open(rec);
        if (pt === undefined || rec.type !== ContentType.handshake) continue;
        for (const f of parseHandshakeFragments(pt)) {
          if (this.#role === 'server' && this.#handshake.awaitingFirstHello && f.messageSeq !== this.#reassembler.nextSeq)
            this.#reassembler.restartAt(f.messageSeq);
          this.#reassembler.add(f, rec.epoch);
          for (let m = this.#reassembler.next(); m; m = this.#reassembler.next()) this.#handshake.onMessage(m, 0);
        }
      }
    } catch (e) {
      this.error = e;
    }
  }
}

/** Exchanges datagrams between an evil peer and a real endpoint until neither has anything to send. */
export function pump(evil: EvilPeer, real: DtlsEndpoint, rounds = 20): void {
  for (let i = 0; i < rounds; i++) {
    let moved = false;
    for (let d = evil.out.shift(); d !== undefined; d = evil.out.shift()) {
      real.handle(d, i);
      moved = true;
    }
    for (let d = real.pollTransmit(); d !== undefined; d = real.pollTransmit()) {
      evil.handle(d);
      moved = true;
    }
    if (!moved) return;
  }
}
