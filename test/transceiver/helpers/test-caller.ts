// A sans-IO WebRTC caller for tests: our own client side (IceControllingClient, DtlsEndpoint,
// SrtpSession) playing the browser against a transceiver Session or a whole transceiver
// process. It sends Opus-shaped RTP every 20 ms when asked, keeps what it receives decrypted,
// and answers our SR with an RR (LSR/DLSR) like a browser does, so RTT can be checked.
import type { TransportAddress } from '../../../src/core/address.ts';
import { classify, isRtcp } from '../../../src/core/demux.ts';
import { DtlsEndpoint, generateCertificate } from '../../../src/core/dtls/index.ts';
import type { DtlsCertificate } from '../../../src/core/dtls/index.ts';
import { IceControllingClient } from '../../../src/core/ice/ice-controlling-client.ts';
import type { Rng } from '../../../src/core/rng.ts';
import { RtpReceiverStats, encodeRtcpCompound, encodeRtp, parseRtcpCompound, parseRtp } from '../../../src/core/rtp/index.ts';
import type { RtcpPacket, RtpPacket } from '../../../src/core/rtp/index.ts';
import { SrtpError, SrtpSession } from '../../../src/core/srtp/index.ts';

export interface TestCallerOptions {
  readonly rng: Rng;
  /** Where the caller sends (the relay public address from the answer's candidate). */
  readonly relay: TransportAddress;
  /** The caller's DTLS role: the opposite of the session's. */
  readonly dtlsRole: 'client' | 'server';
  readonly opusPayloadType?: number;
}

export class TestCaller {
  readonly ufrag: string;
  readonly pwd: string;
  readonly certificate: DtlsCertificate;
  readonly ssrc: number;
  readonly received: RtpPacket[] = [];
  readonly rtcp: RtcpPacket[][] = [];
  readonly events: string[] = [];
  srtp: SrtpSession | undefined;
  #ice: IceControllingClient | undefined;
  #dtls: DtlsEndpoint | undefined;
  readonly #o: TestCallerOptions;
  readonly #out: Buffer[] = [];
  readonly #stats = new RtpReceiverStats(48000);
  #seq = 1000;
  #ts = 5000;

  constructor(o: TestCallerOptions) {
    this.#o = o;
    this.ufrag = o.rng.bytes(6).toString('base64').replace(/=+$/, '');
    this.pwd = o.rng.bytes(18).toString('base64');
    this.certificate = generateCertificate(o.rng);
    this.ssrc = o.rng.bytes(4).readUInt32BE(0);
  }

  get connected(): boolean {
    return this.srtp !== undefined;
  }

  /** Starts ICE once the answer is known (the server ufrag/pwd and certificate fingerprint). */
  start(server: { ufrag: string; pwd: string; fingerprint: string }, now: number): void {
    this.#ice = new IceControllingClient({
      localUfrag: this.ufrag, localPwd: this.pwd, remoteUfrag: server.ufrag, remotePwd: server.pwd, remote: this.#o.relay, rng: this.#o.rng,
    });
    this.#dtls = new DtlsEndpoint({ role: this.#o.dtlsRole, certificate: this.certificate, remoteFingerprint: server.fingerprint, rng: this.#o.rng });
    this.#ice.start(now);
    this.#drain(now);
  }

  handle(data: Buffer, now: number): void {
    const kind = classify(data[0]);
    if (kind === 'stun') this.#ice?.handle(data, this.#o.relay, now);
    else if (kind === 'dtls') this.#dtls?.handle(data, now);
    else if (kind === 'rtp' && this.srtp) this.#onSrtp(data, now);
    this.#drain(now);
  }

  handleTimeout(now: number): void {
    this.#ice?.handleTimeout(now);
    const d = this.#dtls?.pollTimeout();
    if (d !== undefined && now >= d) this.#dtls?.handleTimeout(now);
    this.#drain(now);
  }

  pollTimeout(): number | undefined {
    const a = this.#ice?.pollTimeout();
    const b = this.#dtls?.pollTimeout();
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  /** Everything goes to the relay address. */
  pollTransmit(): Buffer | undefined {
    return this.#out.shift();
  }

  /** One 20 ms Opus-shaped RTP packet (payload as given). */
  sendOpus(payload: Buffer, marker = false): void {
    if (!this.srtp) throw new Error('not connected');
    const pkt = encodeRtp({
      header: { marker, payloadType: this.#o.opusPayloadType ?? 111, sequenceNumber: this.#seq, timestamp: this.#ts, ssrc: this.ssrc, csrcs: [] },
      payload,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#ts = (this.#ts + 960) >>> 0;
    this.#out.push(this.srtp.protectRtp(pkt));
  }

  /** Skips a sequence number, as if the network lost a packet. */
  skipSequence(): void {
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#ts = (this.#ts + 960) >>> 0;
  }

  /** Stops answering (the browser tab is gone): no more ICE or DTLS output. */
  vanish(): void {
    this.#ice?.close();
    this.#ice = undefined;
    this.#dtls = undefined;
    this.srtp = undefined;
  }

  #onSrtp(data: Buffer, now: number): void {
    const srtp = this.srtp!;
    if (isRtcp(data)) {
      const clear = srtp.unprotectRtcp(data);
      if (clear instanceof SrtpError) return void this.events.push(`srtcp-drop:${clear.reason}`);
      const packets = parseRtcpCompound(clear);
      if (!Array.isArray(packets)) return;
      this.rtcp.push(packets);
      const sr = packets.find((p) => p.type === 'sr');
      if (sr && sr.type === 'sr') {
        // A browser answers with an RR carrying LSR/DLSR; here it answers at once (DLSR ≈ 0).
        this.#stats.onSenderReport({ seconds: sr.ntpSeconds, fraction: sr.ntpFraction }, now);
        const rr = encodeRtcpCompound([{ type: 'rr', ssrc: this.ssrc, reports: [this.#stats.reportBlock(sr.ssrc, now)] }]);
        this.#out.push(srtp.protectRtcp(rr));
      }
      return;
    }
    const clear = srtp.unprotectRtp(data);
    if (clear instanceof SrtpError) return void this.events.push(`srtp-drop:${clear.reason}`);
    const rtp = parseRtp(clear);
    if (!('header' in rtp)) return;
    this.#stats.onPacket(rtp.header.sequenceNumber, rtp.header.timestamp, now);
    this.received.push({ ...rtp, payload: Buffer.from(rtp.payload) });
  }

  #drain(now: number): void {
    const ice = this.#ice;
    const dtls = this.#dtls;
    if (ice) {
      for (let t = ice.pollTransmit(); t; t = ice.pollTransmit()) this.#out.push(t.data);
      for (let e = ice.pollEvent(); e; e = ice.pollEvent()) {
        this.events.push(`ice:${e.type}`);
        if (e.type === 'connected' && dtls && dtls.state === 'new') dtls.start(now);
      }
    }
    if (dtls) {
      for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) this.#out.push(d);
      for (let e = dtls.pollEvent(); e; e = dtls.pollEvent()) {
        this.events.push(`dtls:${e.type}`);
        if (e.type === 'connected') this.srtp = SrtpSession.fromDtls(e.srtpProfile, e.keyingMaterial, this.#o.dtlsRole);
        if (e.type === 'closed') this.srtp = undefined;
      }
    }
  }
}
