// A sans-IO stand-in for relay + transceiver, built only from src/core, for testing ClientCall
// without sockets: it answers the offer (core/sdp), runs ICE-lite (core/ice), DTLS in the role
// its answer chose (core/dtls), SRTP (core/srtp), and echoes each RTP packet back under its own
// SSRC, like the transceiver's default echo handler. Not the transceiver: no relay header, no
// sessions table, one call only.
import type { TransportAddress } from '../../src/core/address.ts';
import { seededRng } from '../../src/core/rng.ts';
import type { Rng } from '../../src/core/rng.ts';
import { DtlsEndpoint, generateCertificate } from '../../src/core/dtls/index.ts';
import { IceLiteAgent } from '../../src/core/ice/ice-lite-agent.ts';
import { analyzeOffer, buildAnswer, dtlsRole } from '../../src/core/sdp/index.ts';
import { SrtpSession } from '../../src/core/srtp/index.ts';
import { isRtcp } from '../../src/core/demux.ts';

export const SERVER_ADDRESS: TransportAddress = { address: '192.0.2.10', port: 3478, family: 'IPv4' };

export class LoopbackServer {
  readonly #rng: Rng;
  readonly #cert;
  readonly #tx: { to: TransportAddress; data: Buffer }[] = [];
  #ice: IceLiteAgent | undefined;
  #dtls: DtlsEndpoint | undefined;
  #role: 'client' | 'server' = 'client';
  #srtp: SrtpSession | undefined;
  #peer: TransportAddress | undefined;
  #seq = 1000;
  /** Selected-pair changes seen (NAT rebinding). */
  readonly selections: string[] = [];
  echoed = 0;
  rtcpReceived = 0;
  /** Answer with a=setup:passive instead of active (client becomes the DTLS client). */
  readonly passive: boolean;

  constructor(seed: string, passive = false) {
    this.#rng = seededRng(seed);
    this.#cert = generateCertificate(this.#rng);
    this.passive = passive;
  }

  answer(offerSdp: string): string {
    const r = analyzeOffer(offerSdp);
    if (!r.ok) throw r.error;
    const offer = this.passive ? { ...r.offer, setup: 'active' as const } : r.offer;
    const ufrag = this.#rng.bytes(12).toString('base64').replace(/=/g, '');
    const pwd = this.#rng.bytes(24).toString('base64').replace(/=/g, '');
    this.#ice = new IceLiteAgent({ localUfrag: ufrag, localPwd: pwd, remoteUfrag: r.offer.iceUfrag, remotePwd: r.offer.icePwd });
    this.#role = dtlsRole(offer.setup);
    this.#dtls = new DtlsEndpoint({ role: this.#role, certificate: this.#cert, remoteFingerprint: r.offer.fingerprint.value, rng: this.#rng });
    return buildAnswer({
      offer, iceUfrag: ufrag, icePwd: pwd, fingerprint: { algorithm: 'sha-256', value: this.#cert.fingerprint },
      candidates: [SERVER_ADDRESS], ssrc: 0x5e4f3e2d, cname: 'loopback', sessionId: '1', streamId: 'loop',
    });
  }

  get dtlsConnected(): boolean {
    return this.#srtp !== undefined;
  }

  handle(data: Buffer, from: TransportAddress, now: number): void {
    const b = data[0];
    if (b <= 3) this.#ice?.handle(data, from, now);
    else if (b >= 20 && b <= 63) this.#dtls?.handle(data, now);
    else if (b >= 128 && b <= 191 && this.#srtp) this.#media(data);
    this.#drain(now);
  }

  handleTimeout(now: number): void {
    this.#ice?.handleTimeout(now);
    this.#dtls?.handleTimeout(now);
    this.#drain(now);
  }

  pollTimeout(): number | undefined {
    const a = this.#ice?.pollTimeout();
    const b = this.#dtls?.pollTimeout();
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  pollTransmit(): { to: TransportAddress; data: Buffer } | undefined {
    return this.#tx.shift();
  }

  #media(data: Buffer): void {
    if (isRtcp(data)) {
      if (Buffer.isBuffer(this.#srtp!.unprotectRtcp(data))) this.rtcpReceived++;
      return;
    }
    const rtp = this.#srtp!.unprotectRtp(data);
    if (!Buffer.isBuffer(rtp) || !this.#peer) return;
    const out = Buffer.from(rtp);
    out.writeUInt32BE(0x5e4f3e2d, 8);
    out.writeUInt16BE(this.#seq++ & 0xffff, 2);
    this.#tx.push({ to: this.#peer, data: this.#srtp!.protectRtp(out) });
    this.echoed++;
  }

  #drain(now: number): void {
    for (let t = this.#ice?.pollTransmit(); t; t = this.#ice?.pollTransmit()) this.#tx.push(t);
    for (let ev = this.#ice?.pollEvent(); ev; ev = this.#ice?.pollEvent()) {
      if (ev.type === 'selected') {
        this.#peer = ev.address;
        this.selections.push(`${ev.address.address}:${ev.address.port}`);
        if (this.#role === 'client') this.#dtls?.start(now);
      } else if (ev.type === 'selected-changed') {
        this.#peer = ev.to;
        this.selections.push(`${ev.to.address}:${ev.to.port}`);
      }
    }
    for (let ev = this.#dtls?.pollEvent(); ev; ev = this.#dtls?.pollEvent()) {
      if (ev.type === 'connected') this.#srtp = SrtpSession.fromDtls(ev.srtpProfile, ev.keyingMaterial, this.#role);
    }
    for (let d = this.#dtls?.pollTransmit(); d; d = this.#dtls?.pollTransmit()) if (this.#peer) this.#tx.push({ to: this.#peer, data: d });
  }
}
