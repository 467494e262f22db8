// Parley's side of the DTLS handshake-rate rows of `npm run bench:core` (bench/dtls-rate.ts): a
// child process serving DTLS handshakes on one UDP socket on 127.0.0.1, one DtlsEndpoint per
// client address, configured as the transceiver's lite server is (cookie round trip, client
// certificate checked against the fingerprint, the production Rng, its X25519, its PRF, its peer certificate keys and its record AEAD
// — the native AES-128-GCM where the SRTP addon is built, as resolveSrtp gives it) and sending and receiving
// through the transceiver's media socket: `native` (native/src/media_socket.c, recvmmsg/sendmmsg,
// the transceiver's default where the addon is built) or `dgram` (node:dgram, its fallback), the
// same MediaSocket classes the transceiver binds, with DTLS ending the batch window at once as
// there. Prints "listening PORT". Each association is forgotten once the client closes it (or it
// fails), so the process only does handshakes: its CPU time, which the parent reads from /proc, is
// the server side of a handshake alone — the record layer, the socket and the event loop
// included. Not here: retransmission timers (loopback loses nothing; a lost datagram would show
// as a client timeout, not as a cheaper handshake).
//
//   npx node bench/dtls-server-process.ts CERT_PEM KEY_PEM PEER_FINGERPRINT [native|dgram]
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { systemRng } from '../src/common/system-rng.ts';
import { fingerprintOf } from '../src/core/dtls/certificate.ts';
import { DtlsEndpoint } from '../src/core/dtls/index.ts';
import type { DtlsCertificate } from '../src/core/dtls/index.ts';
import { resolveMediaIo, resolveSrtp } from '../src/transceiver/config.ts';
import { DEFAULT_UDP_BUFFER_BYTES, MEDIA_IO_MODES } from '../src/transceiver/media/media-socket.ts';
import type { MediaIo, MediaPeer, MediaSocket, MediaSocketOptions } from '../src/transceiver/media/media-socket.ts';
import { bindMediaSocket } from '../src/transceiver/media/media-socket-native.ts';
import { defaultPeerKeys, defaultPrf, defaultSigner, defaultX25519 } from '../src/transceiver/media/dtls-crypto-native.ts';

const [certFile, keyFile, peerFingerprint, ioArg] = process.argv.slice(2);
if (ioArg !== undefined && !(MEDIA_IO_MODES as readonly string[]).includes(ioArg))
  throw new Error(`io must be native or dgram, got ${ioArg}`);
const io = resolveMediaIo(ioArg as MediaIo | undefined).io;
const der = new X509Certificate(readFileSync(certFile)).raw;
const certificate: DtlsCertificate = { der, privateKey: createPrivateKey(readFileSync(keyFile)), fingerprint: fingerprintOf(der) };
/** RFC 6347 §4.1: content type 22 is a handshake record; only one may open an association. */
const HANDSHAKE = 22;
/** Bounds this bench process's state should a client leave handshakes half done. */
const MAX_ASSOCIATIONS = 1000;
const NO_HEADER = Buffer.alloc(0);
/** The transceiver's X25519: native where the addon is built. */
const x25519 = defaultX25519();
/** The transceiver's TLS 1.2 PRF: native where the addon is built. */
const prf = defaultPrf();
/** The transceiver's peer certificate keys: native where the addon is built. */
const peerKeys = defaultPeerKeys();
/** The transceiver's signer (our ServerKeyExchange signature): native where the addon is built. */
const signer = defaultSigner();
/** The transceiver's DTLS record AEAD (config.ts resolveSrtp: native unless --srtp ts). */
const recordAead = resolveSrtp(undefined).recordAead;

const associations = new Map<string, DtlsEndpoint>();

function onDatagram(view: Buffer, from: MediaPeer): void {
  const key = `${from.socket.address}:${from.socket.port}`;
  let dtls = associations.get(key);
  if (dtls === undefined) {
    if (view[0] !== HANDSHAKE || associations.size >= MAX_ASSOCIATIONS) return;
    dtls = new DtlsEndpoint({
      role: 'server',
      certificate,
      remoteFingerprint: peerFingerprint,
      rng: systemRng,
      cookie: true,
      x25519,
      prf,
      peerKeys,
      signer,
      recordAead,
    });
    dtls.start(0);
    associations.set(key, dtls);
  }
  // The native socket hands a view of its receive area; a DTLS endpoint keeps handshake
  // fragments, so it gets a copy (as the transceiver's media endpoint gives it).
  dtls.handle(Buffer.from(view), performance.now());
  for (let d = dtls.pollTransmit(); d !== undefined; d = dtls.pollTransmit()) socket.send(NO_HEADER, d, from.socket);
  // Kept until the client's close_notify (as Pion's server keeps a connection until its read
  // fails), so a lost final flight is resent when the client resends its own.
  for (let e = dtls.pollEvent(); e !== undefined; e = dtls.pollEvent())
    if (e.type === 'closed' || e.type === 'failed') associations.delete(key);
}

const options: MediaSocketOptions = {
  bind: { address: '127.0.0.1', port: 0, family: 'IPv4' },
  bufferBytes: DEFAULT_UDP_BUFFER_BYTES,
  onDatagram,
  onTooLarge: () => {},
  onSendError: () => {},
};
const socket: MediaSocket = await bindMediaSocket(io, options, { urgentOffset: 0 });
console.log(`listening ${socket.address.port} ${io}`);
process.on('SIGTERM', () => void socket.close());
