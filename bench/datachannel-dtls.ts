// The DTLS mode of `npm run bench:datachannel`: one data channel between two real Parley peers
// (src/core/peer AudioPeer, the transceiver's ICE-lite role against the client's controlling
// one, as test/core/peer/peer-pair.ts builds them) in this process, each on its own UDP socket
// on 127.0.0.1, with ICE, DTLS 1.2 and SCTP as in a call — no audio source, so only data flows.
// The controlling side opens one ordered channel and sends binary messages of one size for the
// window, keeping its buffer filled (refilled at the 512 KiB low-water mark, as the Pion
// reference does); the lite side counts what arrives. Returns messages and bytes received in
// the window and the process's CPU time (process.cpuUsage, user + system, both peers) during it.
// Not here: the Pion reference (bench/pion-dc) and the table (bench/datachannel.ts).
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { TransportAddress } from '../src/core/address.ts';
import { generateCertificate } from '../src/core/dtls/index.ts';
import { drain } from '../src/core/output.ts';
import { ADDRESS_PATHS, AudioPeer } from '../src/core/peer/index.ts';
import type { PeerEvent } from '../src/core/peer/index.ts';
import { seededRng } from '../src/core/rng.ts';
import { createCoreIce } from '../src/client/core-ice.ts';
import { transceiverSettings } from '../src/transceiver/config.ts';

type Peer = AudioPeer<TransportAddress>;

export interface DtlsCase {
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuMs: number;
}

const LOW_WATER = 512 * 1024;
const SETUP_MS = 10_000;
const certLite = generateCertificate(seededRng('bench-dc-lite'));
const certCtl = generateCertificate(seededRng('bench-dc-ctl'));

/** One peer on one socket: every datagram in, every transmit out, one timer to the peer's deadline. */
class Shell {
  readonly #peer: Peer;
  readonly #socket: Socket;
  readonly #onEvent: (e: PeerEvent<TransportAddress>) => void;
  #timer: NodeJS.Timeout | undefined;
  #armedAt: number | undefined;
  #closed = false;

  constructor(peer: Peer, socket: Socket, onEvent: (e: PeerEvent<TransportAddress>) => void) {
    this.#peer = peer;
    this.#socket = socket;
    this.#onEvent = onEvent;
    socket.on('message', (data, rinfo) => {
      peer.handle(data, { address: rinfo.address, port: rinfo.port, family: 'IPv4' }, performance.now());
      this.flush();
    });
  }

  flush(): void {
    if (this.#closed) return;
    const deadline = drain(
      this.#peer,
      (t) => this.#socket.send(t.data, t.path.port, t.path.address),
      (e) => this.#onEvent(e),
    );
    if (deadline === this.#armedAt) return; // the armed timer already fires then
    clearTimeout(this.#timer);
    this.#armedAt = deadline;
    if (deadline === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#armedAt = undefined;
        this.#peer.handleTimeout(performance.now());
        this.flush();
      },
      Math.max(0, deadline - performance.now()),
    );
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket.close();
  }
}

/** The lite side gets the transceiver's media-socket buffers (--udp-buffer; Linux caps them at rmem_max/wmem_max). */
function bind(bufferBytes?: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** Sends `size`-byte binary messages on one ordered channel for `ms` and measures the receiving side. */
export async function measureDtls(size: number, ms: number): Promise<DtlsCase> {
  const [liteSocket, ctlSocket] = await Promise.all([bind(transceiverSettings.udpBuffer.default), bind()]);
  const liteAddress: TransportAddress = { address: '127.0.0.1', port: liteSocket.address().port, family: 'IPv4' };
  const dataChannels = { remoteMaxMessageSize: 256 * 1024 };
  const creds = {
    lite: { ufrag: 'benchliteufrag00', pwd: 'benchlitepassword0000000' },
    ctl: { ufrag: 'benchctl', pwd: 'benchctlpassword00000000' },
  };
  const lite: Peer = new AudioPeer({
    rng: seededRng('bench-dc-lite-peer'),
    paths: ADDRESS_PATHS,
    dtlsRole: 'server',
    certificate: certLite,
    remoteFingerprint: certCtl.fingerprint,
    ice: { role: 'lite', localUfrag: creds.lite.ufrag, localPwd: creds.lite.pwd, remoteUfrag: creds.ctl.ufrag, remotePwd: creds.ctl.pwd },
    ssrc: 1,
    cname: 'lite',
    payloadType: 111,
    dataChannels,
  });
  const agent = createCoreIce(
    {
      localUfrag: creds.ctl.ufrag,
      localPwd: creds.ctl.pwd,
      remoteUfrag: creds.lite.ufrag,
      remotePwd: creds.lite.pwd,
      remoteCandidates: [liteAddress],
      now: performance.now(),
    },
    seededRng('bench-dc-ctl-ice'),
  );
  const ctl: Peer = new AudioPeer({
    rng: seededRng('bench-dc-ctl-peer'),
    paths: ADDRESS_PATHS,
    dtlsRole: 'client',
    certificate: certCtl,
    remoteFingerprint: certLite.fingerprint,
    ice: { role: 'controlling', agent },
    ssrc: 2,
    cname: 'ctl',
    payloadType: 111,
    dataChannels,
  });

  const payload = Buffer.alloc(size, 0x62);
  let channel = -1;
  let sending = false;
  let messages = 0;
  let bytes = 0;
  let failure: string | undefined;
  let ready: () => void = () => {};
  const open = new Promise<void>((resolve) => (ready = resolve));
  const fill = (): void => {
    const data = ctl.data;
    if (!sending || !data) return;
    const now = performance.now();
    while (data.send(channel, payload, now));
    ctlShell.flush();
  };
  const liteShell = new Shell(lite, liteSocket, (e) => {
    if (e.type === 'datachannel' && e.event.type === 'message') {
      messages++;
      bytes += (e.event.data as Buffer).length;
    } else if (e.type === 'failed') failure = `lite: ${e.reason} ${e.detail}`;
  });
  const ctlShell = new Shell(ctl, ctlSocket, (e) => {
    if (e.type !== 'datachannel') {
      if (e.type === 'failed') failure = `ctl: ${e.reason} ${e.detail}`;
      return;
    }
    const ev = e.event;
    if (ev.type === 'connected' && channel < 0) {
      channel = ctl.data!.open({ label: 'bench', ordered: true }, performance.now());
      ctl.data!.setBufferedAmountLowThreshold(channel, LOW_WATER);
    } else if (ev.type === 'channel_open' && ev.id === channel) ready();
    else if (ev.type === 'buffered_low' && ev.id === channel) queueMicrotask(fill);
  });
  try {
    lite.start(performance.now());
    ctl.start(performance.now());
    liteShell.flush();
    ctlShell.flush();
    let setupTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      open,
      new Promise(
        (_, reject) => (setupTimer = setTimeout(() => reject(new Error(`no open channel in ${SETUP_MS} ms: ${failure ?? ''}`)), SETUP_MS)),
      ),
    ]).finally(() => clearTimeout(setupTimer));

    const cpu0 = process.cpuUsage();
    const start = performance.now();
    messages = 0;
    bytes = 0;
    sending = true;
    fill();
    await new Promise((resolve) => setTimeout(resolve, ms));
    sending = false;
    const got = { messages, bytes };
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (failure) throw new Error(failure);
    return { ...got, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    lite.close(performance.now());
    ctl.close(performance.now());
    liteShell.close();
    ctlShell.close();
  }
}
