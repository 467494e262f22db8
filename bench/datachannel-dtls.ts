// The DTLS mode of `npm run bench:datachannel`: one data channel between two real Parley peers
// (src/core/peer AudioPeer, the transceiver's ICE-lite role against the client's controlling
// one, as test/core/peer/peer-pair.ts builds them), each on its own UDP socket on 127.0.0.1, with
// ICE, DTLS 1.2 and SCTP as in a call — no audio source, so only data flows. The controlling side
// opens one ordered channel and sends binary messages of one size for the window, keeping its
// buffer filled (refilled at the 512 KiB low-water mark, as the Pion reference does); the lite
// side counts what arrives. Both peers seal and open DTLS records with the AEAD the transceiver
// resolves (--srtp native: the addon's AES-128-GCM keyed once; node:crypto without the addon).
// Two layouts:
// - 'two-processes' (what the table compares with Pion): the lite peer runs in a child process
//   (bench/datachannel-dtls-receiver.ts), as a transceiver and a client are separate processes in
//   reality; Pion's two peers likewise spread over both vCPUs as Go threads. CPU is the sum of
//   both processes' in the window.
// - 'one-process': both peers share this process and its one event loop (the earlier layout).
// Returns messages and bytes received in the window and the CPU time (process.cpuUsage, user +
// system) both peers used during it.
// PARLEY_BENCH_CPU_PROF=DIR: the receiver process writes a --cpu-prof there (run the parent with
// --cpu-prof too for the sender).
// Not here: the Pion reference (bench/pion-dc) and the table (bench/datachannel.ts).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { TransportAddress } from '../src/core/address.ts';
import { generateCertificate } from '../src/core/dtls/index.ts';
import { drain } from '../src/core/output.ts';
import { ADDRESS_PATHS, AudioPeer } from '../src/core/peer/index.ts';
import type { PeerDataOptions, PeerEvent } from '../src/core/peer/index.ts';
import { seededRng } from '../src/core/rng.ts';
import { createCoreIce } from '../src/client/core-ice.ts';
import { resolveMediaIo, resolveSrtp, transceiverSettings } from '../src/transceiver/config.ts';
import type { MediaIo, MediaPeer, MediaSocket } from '../src/transceiver/media/media-socket.ts';
import { NativeMediaSocket, bindMediaSocket } from '../src/transceiver/media/media-socket-native.ts';

type Peer = AudioPeer<TransportAddress>;

export interface DtlsCase {
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuMs: number;
  /** The receiving (transceiver) side's media socket; absent for Pion. */
  readonly receiverIo?: MediaIo;
  /** Datagrams the receiver took per receive callback (one wake-up of its JS thread); absent for Pion. */
  readonly receiverDatagramsPerWakeUp?: number;
  /** The sender's window cuts by delay-based control (src/core/sctp/delay-control.ts) over the case; absent for Pion. */
  readonly senderDelayCuts?: number;
}

const LOW_WATER = 512 * 1024;
const SETUP_MS = 10_000;
const certLite = generateCertificate(seededRng('bench-dc-lite'));
const certCtl = generateCertificate(seededRng('bench-dc-ctl'));

/** Where a shell's datagrams go: Node's dgram (the client's, `parley call`) or the transceiver's media socket. */
interface Wire {
  send(data: Buffer, to: TransportAddress): void;
  close(): void;
}

/** One peer on one wire: every datagram in, every transmit out, one timer to the peer's deadline. */
class Shell {
  readonly #peer: Peer;
  readonly #wire: Wire;
  readonly #onEvent: (e: PeerEvent<TransportAddress>) => void;
  readonly #send = (t: { data: Buffer; path: TransportAddress }): void => this.#wire.send(t.data, t.path);
  readonly #event = (e: PeerEvent<TransportAddress>): void => this.#onEvent(e);
  #timer: NodeJS.Timeout | undefined;
  #armedAt: number | undefined;
  #closed = false;

  constructor(peer: Peer, wire: Wire, onEvent: (e: PeerEvent<TransportAddress>) => void) {
    this.#peer = peer;
    this.#wire = wire;
    this.#onEvent = onEvent;
  }

  receive(datagram: Buffer, from: TransportAddress): void {
    this.#peer.handle(datagram, from, performance.now());
    this.flush();
  }

  flush(): void {
    if (this.#closed) return;
    const deadline = drain(this.#peer, this.#send, this.#event);
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
    this.#wire.close();
  }
}

/** A dgram socket on 127.0.0.1, one system call per datagram each way, as the client's UDP driver. */
async function dgramWire(into: () => Shell, bufferBytes?: number): Promise<{ wire: Wire; port: number }> {
  const s = createSocket({ type: 'udp4', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  s.on('message', (data, rinfo) => into().receive(data, { address: rinfo.address, port: rinfo.port, family: 'IPv4' }));
  return { wire: { send: (data, to) => s.send(data, to.port, to.address), close: () => s.close() }, port: s.address().port };
}

const NO_HEADER = Buffer.alloc(0);

/**
 * The transceiver's media socket as `--media-io` resolves it (native: recvmmsg/sendmmsg in
 * batches, the default --media-batch-us window, ended at once by DTLS as the endpoint's
 * urgentOffset does; else dgram) with its --udp-buffer. Like the endpoint, DTLS datagrams are
 * copied out of the native receive area before the peer sees them. No relay header: the peers
 * talk directly.
 */
async function transceiverWire(
  into: () => Shell,
): Promise<{ wire: Wire; port: number; io: MediaIo; datagrams: () => number; wakeUps: () => number }> {
  const bufferBytes = transceiverSettings.udpBuffer.default;
  const { io } = resolveMediaIo(undefined);
  let datagrams = 0;
  const o = {
    bind: { address: '127.0.0.1', port: 0, family: 'IPv4' as const },
    bufferBytes,
    // The endpoint copies every datagram that is not RTP (it may be kept by ICE or a DTLS flight).
    onDatagram: (msg: Buffer, from: MediaPeer) => {
      datagrams++;
      into().receive(Buffer.from(msg), from.socket);
    },
    onTooLarge: () => {},
    onSendError: () => {},
  };
  const socket: MediaSocket = await bindMediaSocket(io, o, { urgentOffset: 0 });
  return {
    wire: { send: (data, to) => socket.send(NO_HEADER, data, to), close: () => void socket.close() },
    port: socket.address.port,
    io,
    datagrams: () => datagrams,
    // A receive callback is one wake-up of the JS thread: a batch (native) or a datagram (dgram).
    wakeUps: () => (socket instanceof NativeMediaSocket ? socket.batches : datagrams),
  };
}

/** A change from the product's data-channel defaults, for both peers of a case. */
export interface BenchVariant {
  /** The pacer's per-slot cap (src/core/peer/pacer.ts). */
  readonly slotBytes?: number;
  /** false: loss-based congestion control only (src/core/sctp/delay-control.ts off). */
  readonly delayControl?: false;
}

/** Both peers' data-channel options: the product's defaults changed by `v`. */
const dataChannelsWith = (v: BenchVariant = {}): PeerDataOptions => ({
  remoteMaxMessageSize: 256 * 1024,
  ...(v.slotBytes === undefined ? {} : { pacing: { maxBytesPerSlot: v.slotBytes } }),
  ...(v.delayControl === undefined ? {} : { sctp: { delayControl: v.delayControl } }),
});
/** The DTLS record AEAD as the transceiver resolves it (--srtp: native where the addon built), for both peers. */
const dtlsRecordAead = resolveSrtp(undefined).recordAead;
const creds = {
  lite: { ufrag: 'benchliteufrag00', pwd: 'benchlitepassword0000000' },
  ctl: { ufrag: 'benchctl', pwd: 'benchctlpassword00000000' },
};

/** What arrives at the receiving peer, counted from `reset()`. */
export interface Receiver {
  readonly port: number;
  /** The receiver's media socket (--media-io as the transceiver resolves it). */
  readonly io: MediaIo;
  readonly fingerprint: string;
  readonly messages: number;
  readonly bytes: number;
  readonly failure: string | undefined;
  /** Datagrams received per receive callback since reset: how many share one wake-up. */
  readonly datagramsPerWakeUp: number;
  reset(): void;
  close(): void;
}

/**
 * The receiving peer: the transceiver's ICE-lite role, DTLS server, on its own socket, with this
 * process's certificate (a certificate is made per process: the seeded rng does not make its key).
 */
export async function startReceiver(senderFingerprint: string, variant: BenchVariant | undefined): Promise<Receiver> {
  const { wire, port, io, datagrams, wakeUps } = await transceiverWire(() => shell);
  const peer: Peer = new AudioPeer({
    rng: seededRng('bench-dc-lite-peer'),
    paths: ADDRESS_PATHS,
    dtlsRole: 'server',
    certificate: certLite,
    remoteFingerprint: senderFingerprint,
    ice: { role: 'lite', localUfrag: creds.lite.ufrag, localPwd: creds.lite.pwd, remoteUfrag: creds.ctl.ufrag, remotePwd: creds.ctl.pwd },
    ssrc: 1,
    cname: 'lite',
    payloadType: 111,
    dataChannels: dataChannelsWith(variant),
    dtlsCrypto: { recordAead: dtlsRecordAead },
  });
  let messages = 0;
  let bytes = 0;
  let datagrams0 = 0;
  let wakeUps0 = 0;
  let failure: string | undefined;
  const shell: Shell = new Shell(peer, wire, (e) => {
    if (e.type === 'datachannel' && e.event.type === 'message') {
      messages++;
      bytes += (e.event.data as Buffer).length;
    } else if (e.type === 'failed') failure = `lite: ${e.reason} ${e.detail}`;
  });
  peer.start(performance.now());
  shell.flush();
  return {
    port,
    io,
    fingerprint: certLite.fingerprint,
    get messages() {
      return messages;
    },
    get bytes() {
      return bytes;
    },
    get failure() {
      return failure;
    },
    get datagramsPerWakeUp() {
      return (datagrams() - datagrams0) / Math.max(1, wakeUps() - wakeUps0);
    },
    reset() {
      messages = 0;
      bytes = 0;
      datagrams0 = datagrams();
      wakeUps0 = wakeUps();
    },
    close() {
      peer.close(performance.now());
      shell.close();
    },
  };
}

/** The far end of a measurement: the receiver in this process, or in a child process it reports from. */
interface ReceiverHandle {
  readonly port: number;
  readonly io: MediaIo;
  readonly fingerprint: string;
  /** Starts counting (and, in a child, its CPU clock). */
  start(): Promise<void>;
  /** Stops counting: what arrived since start, and the CPU the receiver's process used (0 when it is ours). */
  stop(): Promise<{ messages: number; bytes: number; cpuMs: number; datagramsPerWakeUp: number; failure: string | undefined }>;
  close(): void;
}

async function localReceiver(variant: BenchVariant | undefined): Promise<ReceiverHandle> {
  const r = await startReceiver(certCtl.fingerprint, variant);
  return {
    port: r.port,
    io: r.io,
    fingerprint: r.fingerprint,
    start: async () => r.reset(),
    stop: async () => ({ messages: r.messages, bytes: r.bytes, cpuMs: 0, datagramsPerWakeUp: r.datagramsPerWakeUp, failure: r.failure }),
    close: () => r.close(),
  };
}

/** The protocol between this process and bench/datachannel-dtls-receiver.ts, over the IPC channel. */
export type ReceiverRequest = { readonly type: 'start' } | { readonly type: 'stop' };
export type ReceiverReply =
  | { readonly type: 'listening'; readonly port: number; readonly io: MediaIo; readonly fingerprint: string }
  | { readonly type: 'started' }
  | {
      readonly type: 'stopped';
      readonly messages: number;
      readonly bytes: number;
      readonly cpuMs: number;
      readonly datagramsPerWakeUp: number;
      readonly failure?: string;
    };

function childReceiver(variant: BenchVariant | undefined): Promise<ReceiverHandle> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.PARLEY_BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PARLEY_BENCH_CPU_PROF] : []),
      fileURLToPath(new URL('./datachannel-dtls-receiver.ts', import.meta.url)),
      certCtl.fingerprint,
      ...(variant === undefined ? [] : [JSON.stringify(variant)]),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const replies: ReceiverReply[] = [];
  const waiting: ((r: ReceiverReply) => void)[] = [];
  let exited: Error | undefined;
  child.on('message', (m) => {
    const w = waiting.shift();
    if (w) w(m as ReceiverReply);
    else replies.push(m as ReceiverReply);
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`receiver process exited (${code ?? signal})`);
    for (const w of waiting.splice(0))
      w({ type: 'stopped', messages: 0, bytes: 0, cpuMs: 0, datagramsPerWakeUp: 0, failure: exited.message });
  });
  const next = <K extends ReceiverReply['type']>(type: K): Promise<Extract<ReceiverReply, { type: K }>> =>
    new Promise((resolve, reject) => {
      const take = (r: ReceiverReply): void =>
        r.type === type
          ? resolve(r as Extract<ReceiverReply, { type: K }>)
          : reject(new Error(`receiver: ${type} expected, got ${JSON.stringify(r)}`));
      const queued = replies.shift();
      if (queued) take(queued);
      else if (exited) reject(exited);
      else waiting.push(take);
    });
  const ask = (r: ReceiverRequest): void => void child.send(r);
  return next('listening').then(({ port, io, fingerprint }) => ({
    port,
    io,
    fingerprint,
    start: async () => {
      ask({ type: 'start' });
      await next('started');
    },
    stop: async () => {
      ask({ type: 'stop' });
      const s = await next('stopped');
      return { messages: s.messages, bytes: s.bytes, cpuMs: s.cpuMs, datagramsPerWakeUp: s.datagramsPerWakeUp, failure: s.failure };
    },
    close: () => {
      // The child closes its peer and exits once the channel goes; a stuck one is killed.
      if (child.connected) child.disconnect();
      setTimeout(() => exited ?? child.kill('SIGKILL'), 5000).unref();
    },
  }));
}

export type ProcessLayout = 'one-process' | 'two-processes';

/**
 * Sends `size`-byte binary messages on one ordered channel for `ms` and measures the receiving
 * side; `variant` changes both peers' data-channel defaults (pacing cap, delay control).
 */
export async function measureDtls(size: number, ms: number, layout: ProcessLayout, variant?: BenchVariant): Promise<DtlsCase> {
  const receiver = await (layout === 'two-processes' ? childReceiver(variant) : localReceiver(variant));
  const ctlWire = await dgramWire(() => ctlShell);
  const liteAddress: TransportAddress = { address: '127.0.0.1', port: receiver.port, family: 'IPv4' };
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
    remoteFingerprint: receiver.fingerprint,
    ice: { role: 'controlling', agent },
    ssrc: 2,
    cname: 'ctl',
    payloadType: 111,
    dataChannels: dataChannelsWith(variant),
    dtlsCrypto: { recordAead: dtlsRecordAead },
  });

  const payload = Buffer.alloc(size, 0x62);
  let channel = -1;
  let sending = false;
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
  const ctlShell: Shell = new Shell(ctl, ctlWire.wire, (e) => {
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
    ctl.start(performance.now());
    ctlShell.flush();
    let setupTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      open,
      new Promise(
        (_, reject) => (setupTimer = setTimeout(() => reject(new Error(`no open channel in ${SETUP_MS} ms: ${failure ?? ''}`)), SETUP_MS)),
      ),
    ]).finally(() => clearTimeout(setupTimer));

    await receiver.start();
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    sending = true;
    fill();
    await new Promise((resolve) => setTimeout(resolve, ms));
    sending = false;
    const got = await receiver.stop();
    const senderDelayCuts = ctl.data?.stats().sctp.delayCuts;
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    failure ??= got.failure;
    if (failure) throw new Error(failure);
    return {
      messages: got.messages,
      bytes: got.bytes,
      seconds,
      cpuMs: (cpu.user + cpu.system) / 1000 + got.cpuMs,
      receiverDatagramsPerWakeUp: got.datagramsPerWakeUp,
      receiverIo: receiver.io,
      senderDelayCuts,
    };
  } finally {
    ctl.close(performance.now());
    ctlShell.close();
    receiver.close();
  }
}
