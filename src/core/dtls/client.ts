// The DTLS 1.2 client handshake (RFC 5246 §7.3, RFC 6347 §4.2) for our suites (./suites.ts), as WebRTC
// uses it (RFC 8827 §6.5, RFC 5763): ClientHello (again with a cookie after a HelloVerifyRequest),
// then the server's flight — ServerHello, Certificate (checked against the SDP fingerprint),
// ServerKeyExchange (signature verified), CertificateRequest, ServerHelloDone — then ours —
// Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished — and finally
// the server's Finished, verified before we report `connected`.
import { timingSafeEqual } from 'node:crypto';
import { verifyPeerCertificate } from './certificate.ts';
import { generateEphemeral } from './ecdhe.ts';
import type { EphemeralKey } from './ecdhe.ts';
import { AlertDescription, DtlsCode, DtlsError, fail } from './errors.ts';
import type { FlightEntry } from './flight.ts';
import {
  clientHelloExtensions,
  ExtensionType,
  GROUP_PREFERENCE,
  NamedGroup,
  parseExtensions,
  POINT_FORMAT_UNCOMPRESSED,
  srtpProfileName,
} from './extensions.ts';
import type { SrtpProfileName } from './extensions.ts';
import {
  CERT_TYPE,
  encodeCertificate,
  encodeClientHello,
  encodeSigned,
  HandshakeType,
  parseCertificate,
  parseCertificateRequest,
  parseEmpty,
  parseHelloVerifyRequest,
  parseServerHello,
  parseServerKeyExchange,
} from './handshake.ts';
import { extendedMasterSecret, finishedVerifyData } from './prf.ts';
import type { HandshakeMessage } from './reassembly.ts';
import { DTLS12 } from './record.ts';
import { chooseScheme, signWith, verifySigned } from './signature.ts';
import type { PeerKey } from './signature.ts';
import type { CipherSuite } from './suites.ts';
import { Transcript } from './transcript.ts';
import type { HandshakeHost, HandshakeRole, SessionSecrets } from './types.ts';

type Expect = 'serverHello' | 'certificate' | 'serverKeyExchange' | 'certificateRequest' | 'serverHelloDone' | 'finished' | 'done';

/** RFC 6347 §4.2.1 does not bound HelloVerifyRequests; we do, so a server cannot loop us. */
const MAX_HELLO_VERIFY = 4;

const OFFERED_EXTENSIONS: readonly number[] = Object.values(ExtensionType);

export class ClientHandshake implements HandshakeRole {
  readonly #host: HandshakeHost;
  readonly #transcript = new Transcript();
  #expect: Expect = 'serverHello';
  #clientRandom: Buffer = Buffer.alloc(0);
  #serverRandom: Buffer = Buffer.alloc(0);
  #helloVerifies = 0;
  #profile: SrtpProfileName | undefined;
  #peerKey: PeerKey | undefined;
  #serverGroup: NamedGroup | undefined;
  #serverPublic: Buffer | undefined;
  #suite: CipherSuite | undefined;
  /** The scheme for our CertificateVerify, when the server asked for a certificate. */
  #clientScheme: number | undefined;
  #secrets: SessionSecrets | undefined;
  /** Our X25519 key share made ahead (prepareAhead), taken if the server picks X25519. */
  #x25519Ahead: EphemeralKey | undefined;

  constructor(host: HandshakeHost) {
    this.#host = host;
  }

  get awaitingFirstHello(): boolean {
    return false;
  }

  start(now: number): void {
    this.#clientRandom = this.#host.rng.bytes(32);
    this.#sendClientHello(Buffer.alloc(0), now);
  }

  /** X25519 first in our preference and every traced WebRTC peer's pick: its key is made while we wait. */
  prepareAhead(): void {
    this.#x25519Ahead ??= generateEphemeral(NamedGroup.x25519, this.#host.rng, this.#host.x25519);
  }

  #sendClientHello(cookie: Buffer, now: number): void {
    const body = encodeClientHello({
      version: DTLS12,
      random: this.#clientRandom,
      sessionId: Buffer.alloc(0),
      cookie,
      cipherSuites: this.#host.cipherSuites.map((s) => s.id),
      compressionMethods: [0],
      extensions: clientHelloExtensions(this.#host.srtpProfiles),
    });
    const seq = this.#host.nextMessageSeq();
    // RFC 6347 §4.2.1: the transcript starts with the ClientHello that carries the cookie.
    this.#transcript.reset();
    this.#transcript.add(HandshakeType.clientHello, seq, body);
    this.#host.sendFlight([{ kind: 'handshake', epoch: 0, msgType: HandshakeType.clientHello, seq, body }], now, true);
  }

  onMessage(msg: HandshakeMessage, now: number): void {
    // RFC 5246 §7.4.1.1: HelloRequest is ignored while negotiating (and we never renegotiate).
    if (this.#expect === 'done' || msg.msgType === HandshakeType.helloRequest) return;
    // Only Finished travels under the new keys; everything before it must be epoch 0.
    const wantEpoch = msg.msgType === HandshakeType.finished ? 1 : 0;
    if (msg.epoch !== wantEpoch || msg.minEpoch !== wantEpoch)
      throw fail.unexpected(`handshake message ${msg.msgType} in epoch ${msg.epoch}`);
    if (msg.msgType === HandshakeType.helloVerifyRequest && this.#expect === 'serverHello') return this.#onHelloVerify(msg, now);
    if (msg.msgType === HandshakeType.certificateRequest && this.#expect === 'certificateRequest') return this.#onCertificateRequest(msg);
    if (msg.msgType === HandshakeType.serverHelloDone && this.#expect === 'certificateRequest') this.#expect = 'serverHelloDone';
    const expected = {
      serverHello: HandshakeType.serverHello,
      certificate: HandshakeType.certificate,
      serverKeyExchange: HandshakeType.serverKeyExchange,
      certificateRequest: HandshakeType.certificateRequest,
      serverHelloDone: HandshakeType.serverHelloDone,
      finished: HandshakeType.finished,
    }[this.#expect];
    if (msg.msgType !== expected) throw fail.unexpected(`handshake message ${msg.msgType} while expecting ${this.#expect}`);
    switch (this.#expect) {
      case 'serverHello':
        return this.#onServerHello(msg);
      case 'certificate':
        return this.#onCertificate(msg);
      case 'serverKeyExchange':
        return this.#onServerKeyExchange(msg);
      case 'serverHelloDone':
        return this.#onServerHelloDone(msg, now);
      case 'finished':
        return this.#onFinished(msg);
    }
  }

  #onHelloVerify(msg: HandshakeMessage, now: number): void {
    const hvr = parseHelloVerifyRequest(msg.body);
    if (++this.#helloVerifies > MAX_HELLO_VERIFY) throw fail.unexpected('HelloVerifyRequest (too many)');
    this.#sendClientHello(hvr.cookie, now);
  }

  #onServerHello(msg: HandshakeMessage): void {
    const sh = parseServerHello(msg.body);
    if (sh.version !== DTLS12) {
      throw new DtlsError(
        DtlsCode.protocolVersion,
        `server chose version ${sh.version.toString(16)}, not DTLS 1.2`,
        AlertDescription.protocolVersion,
      );
    }
    const suite = this.#host.cipherSuites.find((s) => s.id === sh.cipherSuite);
    if (suite === undefined || sh.compressionMethod !== 0)
      throw fail.illegal('server chose a cipher suite or compression we did not offer');
    this.#suite = suite;
    const ext = parseExtensions(sh.extensions);
    // RFC 5246 §7.4.1.4: a server must not send an extension the client did not offer.
    for (const t of ext.types) {
      if (!OFFERED_EXTENSIONS.includes(t) || t === ExtensionType.supportedGroups || t === ExtensionType.signatureAlgorithms) {
        throw new DtlsError(DtlsCode.illegalParameter, `server sent unsolicited extension ${t}`, AlertDescription.unsupportedExtension);
      }
    }
    // RFC 7627 §5.3: we refuse to run without the extended master secret.
    if (!ext.extendedMasterSecret) throw fail.handshake(DtlsCode.noExtendedMasterSecret, 'server does not support extended_master_secret');
    // RFC 5746 §3.4: the initial handshake's renegotiated_connection must be empty.
    if (ext.renegotiationInfo !== undefined && ext.renegotiationInfo.length !== 0)
      throw fail.handshake(DtlsCode.illegalParameter, 'non-empty renegotiation_info');
    if (ext.pointFormats !== undefined && !ext.pointFormats.includes(POINT_FORMAT_UNCOMPRESSED))
      throw fail.illegal('server lacks uncompressed points');
    // RFC 5764 §4.1.1: exactly one profile, one we offered.
    const chosen = ext.srtpProfiles;
    const name = chosen?.length === 1 && this.#host.srtpProfiles.includes(chosen[0]) ? srtpProfileName(chosen[0]) : undefined;
    if (name === undefined) throw fail.handshake(DtlsCode.noSrtpProfile, 'server did not choose one of our SRTP profiles');
    if (ext.srtpMki !== undefined && ext.srtpMki.length !== 0) throw fail.illegal('server chose an SRTP MKI');
    this.#profile = name;
    this.#serverRandom = Buffer.from(sh.random);
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    this.#expect = 'certificate';
  }

  #onCertificate(msg: HandshakeMessage): void {
    const key = verifyPeerCertificate(parseCertificate(msg.body), this.#host.remoteFingerprint, this.#host.peerKeys);
    // RFC 8422 §5.3: the server's key must be of the kind its chosen suite names.
    if (key.kind !== this.#suite!.auth) {
      throw new DtlsError(
        DtlsCode.badCertificate,
        `server certificate key does not suit ${this.#suite!.name}`,
        AlertDescription.unsupportedCertificate,
      );
    }
    this.#peerKey = key;
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    this.#expect = 'serverKeyExchange';
  }

  #onServerKeyExchange(msg: HandshakeMessage): void {
    const ske = parseServerKeyExchange(msg.body);
    if (!GROUP_PREFERENCE.includes(ske.group as NamedGroup)) throw fail.illegal(`server chose group ${ske.group} we did not offer`);
    // RFC 8422 §5.4: the signature covers client_random ‖ server_random ‖ ServerECDHParams.
    verifySigned(this.#peerKey!, Buffer.concat([this.#clientRandom, this.#serverRandom, ske.params]), ske.signed, 'ServerKeyExchange');
    this.#serverGroup = ske.group as NamedGroup;
    this.#serverPublic = Buffer.from(ske.publicKey);
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    this.#expect = 'certificateRequest';
  }

  #onCertificateRequest(msg: HandshakeMessage): void {
    const req = parseCertificateRequest(msg.body);
    const host = this.#host;
    const scheme = chooseScheme(host.certificate.privateKey, req.signatureAlgorithms);
    if (!req.certificateTypes.includes(CERT_TYPE[host.certificateKind]) || scheme === undefined) {
      throw fail.handshake(DtlsCode.noSharedSignature, `server does not accept our ${host.certificateKind} client certificate`);
    }
    this.#clientScheme = scheme;
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    this.#expect = 'serverHelloDone';
  }

  #onServerHelloDone(msg: HandshakeMessage, now: number): void {
    parseEmpty(msg.body, 'ServerHelloDone');
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    const host = this.#host;
    const ahead = this.#x25519Ahead;
    this.#x25519Ahead = undefined;
    const eph =
      ahead !== undefined && ahead.group === this.#serverGroup ? ahead : generateEphemeral(this.#serverGroup!, host.rng, host.x25519);
    const preMaster = eph.agree(this.#serverPublic!);
    const flight: FlightEntry[] = [];
    const add = (msgType: number, body: Buffer, epoch = 0): void => {
      const seq = host.nextMessageSeq();
      this.#transcript.add(msgType, seq, body);
      flight.push({ kind: 'handshake', epoch, msgType, seq, body });
    };
    const suite = this.#suite!;
    const requested = this.#clientScheme !== undefined;
    if (requested) add(HandshakeType.certificate, encodeCertificate([host.certificate.der]));
    add(HandshakeType.clientKeyExchange, Buffer.concat([Buffer.from([eph.publicKey.length]), eph.publicKey]));
    // RFC 7627 §4: session_hash covers the transcript up to and including ClientKeyExchange.
    const master = extendedMasterSecret(host.prf, preMaster, this.#transcript.hash(suite.prfHash), suite.prfHash);
    if (requested) {
      // RFC 5246 §7.4.8: the signature covers all handshake messages so far.
      const signed = signWith(host.signer, host.certificate.privateKey, this.#clientScheme!, this.#transcript.bytes());
      add(HandshakeType.certificateVerify, encodeSigned(signed));
    }
    flight.push({ kind: 'ccs', epoch: 0 });
    add(HandshakeType.finished, finishedVerifyData(host.prf, master, 'client', this.#transcript.hash(suite.prfHash), suite.prfHash), 1);
    this.#secrets = { suite, masterSecret: master, clientRandom: this.#clientRandom, serverRandom: this.#serverRandom };
    host.installKeys(this.#secrets);
    host.sendFlight(flight, now, true);
    this.#expect = 'finished';
  }

  #onFinished(msg: HandshakeMessage): void {
    // RFC 5246 §7.4.9: over every message but this one. Computed here, not with our flight: the
    // transcript is final once our Finished is in it, and our flight goes a PRF sooner (issue #18).
    const s = this.#secrets!;
    const expected = finishedVerifyData(this.#host.prf, s.masterSecret, 'server', this.#transcript.hash(s.suite.prfHash), s.suite.prfHash);
    if (msg.body.length !== expected.length || !timingSafeEqual(msg.body, expected)) {
      throw new DtlsError(DtlsCode.badFinished, 'server Finished verify_data is wrong', AlertDescription.decryptError);
    }
    // The handshake is over: its messages are not needed again, and a call keeps its endpoint.
    this.#transcript.reset();
    this.#expect = 'done';
    this.#host.connected(this.#profile!, this.#secrets!);
  }
}
