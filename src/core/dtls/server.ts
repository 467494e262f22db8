// The DTLS 1.2 server handshake (RFC 5246 §7.3, RFC 6347 §4.2) for our suites (./suites.ts), as WebRTC
// uses it (RFC 8827 §6.5): an optional stateless cookie exchange (RFC 6347 §4.2.1), then
// ServerHello, Certificate, ServerKeyExchange, CertificateRequest (a client certificate is
// REQUIRED: the SDP fingerprint is the peer's only authentication), ServerHelloDone; then the
// client's Certificate (checked against the fingerprint), ClientKeyExchange, CertificateVerify
// (verified) and Finished (verified), and our ChangeCipherSpec and Finished.
import { timingSafeEqual } from 'node:crypto';
import { verifyPeerCertificate } from './certificate.ts';
import { generateEphemeral } from './ecdhe.ts';
import type { EphemeralKey } from './ecdhe.ts';
import { AlertDescription, DtlsCode, DtlsError, fail } from './errors.ts';
import {
  EMPTY_RENEGOTIATION_INFO_SCSV,
  GROUP_PREFERENCE,
  NamedGroup,
  parseExtensions,
  POINT_FORMAT_UNCOMPRESSED,
  serverHelloExtensions,
  srtpProfileName,
} from './extensions.ts';
import type { HelloExtensions, SrtpProfileName } from './extensions.ts';
import {
  CERT_TYPE,
  encodeCertificate,
  encodeCertificateRequest,
  encodeEcdhParams,
  encodeHelloVerifyRequest,
  encodeServerHello,
  encodeSigned,
  HandshakeType,
  parseCertificate,
  parseClientHello,
  parseClientKeyExchange,
  parseSigned,
} from './handshake.ts';
import type { ClientHello } from './handshake.ts';
import { extendedMasterSecret, finishedVerifyData } from './prf.ts';
import type { HandshakeMessage } from './reassembly.ts';
import { DTLS10, DTLS12 } from './record.ts';
import { chooseScheme, SIGNATURE_PREFERENCE, signWith, verifySigned } from './signature.ts';
import type { PeerKey } from './signature.ts';
import type { CipherSuite } from './suites.ts';
import { Transcript } from './transcript.ts';
import type { HandshakeHost, HandshakeRole, SessionSecrets } from './types.ts';

/** Our CertificateRequest: the same for every handshake, so built once (only ever copied out). */
const CERTIFICATE_REQUEST = encodeCertificateRequest({
  certificateTypes: [CERT_TYPE.ecdsa, CERT_TYPE.rsa],
  signatureAlgorithms: SIGNATURE_PREFERENCE,
});
/** Our Certificate message per certificate (its DER), built on the first handshake that sends it. */
const CERTIFICATE_MESSAGES = new WeakMap<Buffer, Buffer>();
const EMPTY = Buffer.alloc(0);

function certificateMessage(der: Buffer): Buffer {
  let body = CERTIFICATE_MESSAGES.get(der);
  if (body === undefined) {
    body = encodeCertificate([der]);
    CERTIFICATE_MESSAGES.set(der, body);
  }
  return body;
}

type Expect = 'clientHello' | 'certificate' | 'clientKeyExchange' | 'certificateVerify' | 'finished' | 'done';

export class ServerHandshake implements HandshakeRole {
  readonly #host: HandshakeHost;
  readonly #transcript = new Transcript();
  readonly #cookieSecret: Buffer;
  #expect: Expect = 'clientHello';
  #clientRandom: Buffer = EMPTY;
  #serverRandom: Buffer = EMPTY;
  #profile: SrtpProfileName | undefined;
  #suite: CipherSuite | undefined;
  /** The scheme we sign ServerKeyExchange with. */
  #scheme = 0;
  #answer = { renegotiationInfo: false, pointFormats: false };
  #ephemeral: EphemeralKey | undefined;
  #peerKey: PeerKey | undefined;
  #secrets: SessionSecrets | undefined;

  constructor(host: HandshakeHost) {
    this.#host = host;
    this.#cookieSecret = host.rng.bytes(32);
  }

  get awaitingFirstHello(): boolean {
    return this.#expect === 'clientHello';
  }

  start(_now: number): void {}

  onMessage(msg: HandshakeMessage, now: number): void {
    if (this.#expect === 'done') return;
    const wantEpoch = msg.msgType === HandshakeType.finished ? 1 : 0;
    if (msg.epoch !== wantEpoch || msg.minEpoch !== wantEpoch)
      throw fail.unexpected(`handshake message ${msg.msgType} in epoch ${msg.epoch}`);
    switch (this.#expect) {
      case 'clientHello':
        if (msg.msgType !== HandshakeType.clientHello) throw fail.unexpected(`handshake message ${msg.msgType} before ClientHello`);
        return this.#onClientHello(msg, now);
      case 'certificate':
        // RFC 8827 §6.5 / RFC 5763 §5: the client must authenticate with its certificate.
        if (msg.msgType === HandshakeType.clientKeyExchange) {
          throw new DtlsError(DtlsCode.noClientCertificate, 'client sent no certificate', AlertDescription.handshakeFailure);
        }
        this.#require(msg, HandshakeType.certificate);
        this.#peerKey = verifyPeerCertificate(parseCertificate(msg.body), this.#host.remoteFingerprint, this.#host.peerKeys);
        this.#transcript.add(msg.msgType, msg.seq, msg.body);
        this.#expect = 'clientKeyExchange';
        return;
      case 'clientKeyExchange':
        return this.#onClientKeyExchange(msg);
      case 'certificateVerify':
        this.#require(msg, HandshakeType.certificateVerify);
        // RFC 5246 §7.4.8: the signature covers every handshake message before this one.
        verifySigned(this.#peerKey!, this.#transcript.bytes(), parseSigned(msg.body, 'CertificateVerify'), 'CertificateVerify');
        this.#transcript.add(msg.msgType, msg.seq, msg.body);
        this.#expect = 'finished';
        return;
      case 'finished':
        return this.#onFinished(msg, now);
    }
  }

  #require(msg: HandshakeMessage, type: number): void {
    if (msg.msgType !== type) throw fail.unexpected(`handshake message ${msg.msgType} while expecting ${this.#expect}`);
  }

  /**
   * RFC 6347 §4.2.1: a cookie the client can only echo if it receives at its address — a MAC of
   * its random and suites under a secret of this endpoint. The MAC is the handshake's own PRF
   * (HMAC-based, RFC 5246 §5; one native call in the transceiver) under a label of ours.
   */
  #cookieFor(ch: ClientHello): Buffer {
    return this.#host.prf(this.#cookieSecret, 'parley dtls cookie', Buffer.concat([ch.random, Buffer.from(ch.cipherSuites)]), 20, 'sha256');
  }

  #onClientHello(msg: HandshakeMessage, now: number): void {
    const ch = parseClientHello(msg.body);
    // RFC 6347 §4.1: DTLS versions are the 1's complement of TLS's (1.2 = 0xfefd, 1.0 = 0xfeff);
    // a ClientHello names the highest it supports, and a DTLS 1.3 client still says 1.2 there
    // (RFC 9147 §5.3 legacy_version). So 0xfefd is the only version we take; 1.0 alone is too old,
    // and anything else (a TLS 0x0303, a made-up value) is not DTLS at all (issue #19).
    if (ch.version !== DTLS12) {
      const what = ch.version === DTLS10 ? 'only DTLS 1.0' : `version 0x${ch.version.toString(16).padStart(4, '0')}, not DTLS 1.2 or 1.0`;
      throw new DtlsError(DtlsCode.protocolVersion, `client offers ${what}`, AlertDescription.protocolVersion);
    }
    if (this.#host.cookie()) {
      const cookie = this.#cookieFor(ch);
      if (ch.cookie.length !== cookie.length || !timingSafeEqual(ch.cookie, cookie)) {
        // RFC 6347 §4.2.1: HelloVerifyRequest uses version DTLS 1.0 and the ClientHello's message_seq.
        const body = encodeHelloVerifyRequest(DTLS10, cookie);
        this.#host.sendHelloVerifyRequest(
          { kind: 'handshake', epoch: 0, msgType: HandshakeType.helloVerifyRequest, seq: msg.seq, body },
          msg.recordSeq,
        );
        return;
      }
    }
    // Our preference, not the client's (./suites.ts), among the suites our certificate can serve.
    const kind = this.#host.certificateKind;
    const suite = this.#host.cipherSuites.find((s) => s.auth === kind && ch.cipherSuites.includes(s.id));
    if (suite === undefined) throw fail.handshake(DtlsCode.noSharedCipher, `client offers no ECDHE-${kind.toUpperCase()} suite of ours`);
    this.#suite = suite;
    if (!ch.compressionMethods.includes(0)) throw fail.illegal('client does not offer null compression');
    const ext = parseExtensions(ch.extensions);
    const group = this.#negotiate(ext);
    this.#answer = {
      renegotiationInfo: ext.renegotiationInfo !== undefined || ch.cipherSuites.includes(EMPTY_RENEGOTIATION_INFO_SCSV),
      pointFormats: ext.pointFormats !== undefined,
    };
    this.#clientRandom = Buffer.from(ch.random);
    this.#serverRandom = this.#host.rng.bytes(32);
    this.#ephemeral = generateEphemeral(group, this.#host.rng, this.#host.x25519);
    this.#transcript.reset();
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    this.#host.setMessageSeq(msg.seq);
    this.#sendServerFlight(now);
  }

  /** Checks the client's extensions; returns the ECDHE group. Sets the SRTP profile. */
  #negotiate(ext: HelloExtensions): NamedGroup {
    // RFC 7627 §5.3: we refuse to run without the extended master secret.
    if (!ext.extendedMasterSecret) throw fail.handshake(DtlsCode.noExtendedMasterSecret, 'client does not offer extended_master_secret');
    // RFC 5764 §4.1.1: pick the first profile in OUR preference order the client offers.
    const offered = ext.srtpProfiles ?? [];
    const pick = this.#host.srtpProfiles.find((p) => offered.includes(p));
    const name = pick === undefined ? undefined : srtpProfileName(pick);
    if (name === undefined) throw fail.handshake(DtlsCode.noSrtpProfile, 'client offers none of our SRTP profiles');
    this.#profile = name;
    // RFC 5246 §7.4.1.4.1: absent signature_algorithms means SHA-1, which we do not do.
    const scheme = chooseScheme(this.#host.certificate.privateKey, ext.signatureAlgorithms ?? []);
    if (scheme === undefined) {
      throw fail.handshake(DtlsCode.noSharedSignature, `client accepts no signature scheme for our ${this.#host.certificateKind} key`);
    }
    this.#scheme = scheme;
    if (ext.pointFormats !== undefined && !ext.pointFormats.includes(POINT_FORMAT_UNCOMPRESSED))
      throw fail.illegal('client lacks uncompressed points');
    if (ext.renegotiationInfo !== undefined && ext.renegotiationInfo.length !== 0)
      throw fail.handshake(DtlsCode.illegalParameter, 'non-empty renegotiation_info');
    // RFC 8422 §4: without supported_groups the client accepts any; we then use P-256.
    if (ext.groups === undefined) return NamedGroup.secp256r1;
    const group = GROUP_PREFERENCE.find((g) => ext.groups!.includes(g));
    if (group === undefined) throw fail.handshake(DtlsCode.noSharedGroup, 'client offers none of X25519, P-256, P-384');
    return group;
  }

  #sendServerFlight(now: number): void {
    const host = this.#host;
    const eph = this.#ephemeral!;
    const flight: { kind: 'handshake'; epoch: number; msgType: number; seq: number; body: Buffer }[] = [];
    const add = (msgType: number, body: Buffer): void => {
      const seq = host.nextMessageSeq();
      this.#transcript.add(msgType, seq, body);
      flight.push({ kind: 'handshake', epoch: 0, msgType, seq, body });
    };
    const profileId = this.#host.srtpProfiles.find((p) => srtpProfileName(p) === this.#profile)!;
    add(
      HandshakeType.serverHello,
      encodeServerHello({
        version: DTLS12,
        random: this.#serverRandom,
        sessionId: EMPTY,
        cipherSuite: this.#suite!.id,
        compressionMethod: 0,
        extensions: serverHelloExtensions(profileId, this.#answer),
      }),
    );
    add(HandshakeType.certificate, certificateMessage(host.certificate.der));
    const params = encodeEcdhParams(eph.group, eph.publicKey);
    const signed = signWith(
      host.signer,
      host.certificate.privateKey,
      this.#scheme,
      Buffer.concat([this.#clientRandom, this.#serverRandom, params]),
    );
    add(HandshakeType.serverKeyExchange, Buffer.concat([params, encodeSigned(signed)]));
    add(HandshakeType.certificateRequest, CERTIFICATE_REQUEST);
    add(HandshakeType.serverHelloDone, EMPTY);
    host.sendFlight(flight, now, true);
    this.#expect = 'certificate';
  }

  #onClientKeyExchange(msg: HandshakeMessage): void {
    this.#require(msg, HandshakeType.clientKeyExchange);
    const preMaster = this.#ephemeral!.agree(parseClientKeyExchange(msg.body));
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    // RFC 7627 §4: session_hash covers the transcript up to and including ClientKeyExchange.
    const suite = this.#suite!;
    const master = extendedMasterSecret(this.#host.prf, preMaster, this.#transcript.hash(suite.prfHash), suite.prfHash);
    this.#secrets = { suite, masterSecret: master, clientRandom: this.#clientRandom, serverRandom: this.#serverRandom };
    this.#host.installKeys(this.#secrets);
    this.#expect = 'certificateVerify';
  }

  #onFinished(msg: HandshakeMessage, now: number): void {
    const secrets = this.#secrets!;
    const hash = secrets.suite.prfHash;
    const expected = finishedVerifyData(this.#host.prf, secrets.masterSecret, 'client', this.#transcript.hash(hash), hash);
    if (msg.body.length !== expected.length || !timingSafeEqual(msg.body, expected)) {
      throw new DtlsError(DtlsCode.badFinished, 'client Finished verify_data is wrong', AlertDescription.decryptError);
    }
    this.#transcript.add(msg.msgType, msg.seq, msg.body);
    const seq = this.#host.nextMessageSeq();
    const body = finishedVerifyData(this.#host.prf, secrets.masterSecret, 'server', this.#transcript.hash(hash), hash);
    // The final flight is kept (not timed): it is resent only when the client resends its own.
    this.#host.sendFlight(
      [
        { kind: 'ccs', epoch: 0 },
        { kind: 'handshake', epoch: 1, msgType: HandshakeType.finished, seq, body },
      ],
      now,
      false,
    );
    // The handshake is over: its messages are not needed again, and a call keeps its endpoint.
    this.#transcript.reset();
    this.#expect = 'done';
    this.#host.connected(this.#profile!, secrets);
  }
}
