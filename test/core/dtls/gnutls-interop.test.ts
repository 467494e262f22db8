// Interop with GnuTLS 3.7 (`gnutls-cli`/`gnutls-serv --udp`), a second foreign DTLS 1.2 stack
// beside OpenSSL: our server against gnutls-cli and our client against gnutls-serv, with RSA and
// ECDSA certificates, each AEAD our suites use, data both ways, and (gnutls-cli) the same SRTP keys.
// Nothing is skipped: if gnutls-bin is missing, these tests fail (.ci/run installs it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { DtlsEndpoint, generateCertificate } from '../../../src/core/dtls/index.ts';
import type { DtlsCertificate, DtlsEvent } from '../../../src/core/dtls/index.ts';
import { systemRng } from '../../../src/common/system-rng.ts';
import { makeOpensslIdentity, OPENSSL_KEYS, OpensslProcess } from './openssl-process.ts';
import type { OpensslIdentity } from './openssl-process.ts';
import { UdpShell } from './udp-shell.ts';

const WAIT_MS = 15_000;
const ourEcdsa = generateCertificate();
const ourRsa = generateCertificate(undefined, 'rsa');
let rsaPeer: OpensslIdentity;
let ecdsaPeer: OpensslIdentity;

before(() => {
  rsaPeer = makeOpensslIdentity(OPENSSL_KEYS.rsa2048);
  ecdsaPeer = makeOpensslIdentity(OPENSSL_KEYS.p256);
});

after(() => {
  rsaPeer.remove();
  ecdsaPeer.remove();
});

/** A GnuTLS priority string limited to DTLS 1.2, one key exchange and one AEAD cipher. */
function priority(kx: 'ECDHE-RSA' | 'ECDHE-ECDSA', cipher: string): string {
  return `NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+${kx}:-CIPHER-ALL:+${cipher}`;
}

const common = (peer: OpensslIdentity, prio: string): string[] => [
  '--udp',
  '--x509certfile',
  peer.cert,
  '--x509keyfile',
  peer.key,
  '--srtp-profiles',
  'SRTP_AES128_CM_HMAC_SHA1_80',
  '--keymatexport',
  'EXTRACTOR-dtls_srtp',
  '--keymatexportsize',
  '60',
  '--priority',
  prio,
];

const isDone = (e: DtlsEvent): boolean => e.type === 'connected' || e.type === 'failed';

async function connected(shell: UdpShell, suite: string): Promise<Buffer> {
  const ev = await shell.waitFor(isDone, WAIT_MS, 'connected');
  assert.equal(ev.type, 'connected', JSON.stringify(ev));
  if (ev.type !== 'connected') throw new Error('unreachable');
  assert.equal(ev.cipherSuite, suite);
  return ev.keyingMaterial;
}

interface Case {
  suite: string;
  kx: 'ECDHE-RSA' | 'ECDHE-ECDSA';
  cipher: string;
  ourServerCert: DtlsCertificate;
}
const CASES: Case[] = [
  { suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', kx: 'ECDHE-ECDSA', cipher: 'AES-128-GCM', ourServerCert: ourEcdsa },
  { suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', kx: 'ECDHE-RSA', cipher: 'AES-128-GCM', ourServerCert: ourRsa },
  { suite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', kx: 'ECDHE-RSA', cipher: 'AES-256-GCM', ourServerCert: ourRsa },
  { suite: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', kx: 'ECDHE-ECDSA', cipher: 'CHACHA20-POLY1305', ourServerCert: ourEcdsa },
  { suite: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', kx: 'ECDHE-RSA', cipher: 'CHACHA20-POLY1305', ourServerCert: ourRsa },
];

for (const c of CASES) {
  test(`gnutls-cli (RSA certificate) ⇄ our server: ${c.suite}, data both ways, same keys`, async () => {
    const shell = new UdpShell(
      new DtlsEndpoint({ role: 'server', certificate: c.ourServerCert, remoteFingerprint: rsaPeer.fingerprint, rng: systemRng }),
    );
    const port = await shell.bind();
    shell.start();
    const cli = new OpensslProcess(
      ['-p', String(port), '127.0.0.1', '--insecure', ...common(rsaPeer, priority(c.kx, c.cipher))],
      'gnutls-cli',
    );
    try {
      const ours = await connected(shell, c.suite);
      const theirs = Buffer.from((await cli.waitFor(/Key material: ([0-9a-f]+)/, WAIT_MS))[1], 'hex');
      assert.equal(theirs.toString('hex'), ours.toString('hex'), 'both sides export the same keying material');
      await cli.waitFor(/Handshake was completed/, WAIT_MS);
      shell.send(Buffer.from('hello from parley\n'));
      await cli.waitFor(/hello from parley/, WAIT_MS);
      cli.write('hello from gnutls\n');
      await shell.waitFor((e) => e.type === 'data' && e.data.toString().includes('hello from gnutls'), WAIT_MS, 'data from gnutls');
    } finally {
      shell.close();
      await cli.kill();
    }
  });
}

/** A UDP port free right now on 127.0.0.1 (gnutls-serv takes a fixed port, not 0). */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

for (const c of CASES) {
  // Our client certificate: the kind the suite does not use, so both kinds meet in every run.
  const ourClientCert = c.ourServerCert === ourRsa ? ourEcdsa : ourRsa;
  test(`our client (${ourClientCert === ourRsa ? 'RSA' : 'ECDSA'}) ⇄ gnutls-serv --echo: ${c.suite}, echoed data`, async () => {
    const peer = c.kx === 'ECDHE-RSA' ? rsaPeer : ecdsaPeer;
    const port = await freePort();
    // stdbuf: gnutls-serv block-buffers a piped stdout, and we wait on its lines.
    const serv = new OpensslProcess(
      ['-oL', 'gnutls-serv', '-p', String(port), '--echo', ...common(peer, priority(c.kx, c.cipher))],
      'stdbuf',
    );
    const shell = new UdpShell(
      new DtlsEndpoint({ role: 'client', certificate: ourClientCert, remoteFingerprint: peer.fingerprint, rng: systemRng }),
    );
    try {
      await serv.waitFor(/listening on IPv4/, WAIT_MS, 'stderr');
      await shell.bind();
      shell.connect(port);
      shell.start();
      // gnutls-serv prints no exported keys (gnutls-cli does, above); the echo proves both directions.
      await connected(shell, c.suite);
      await serv.waitFor(/DTLS profile set to SRTP_AES128_CM_HMAC_SHA1_80/, WAIT_MS, 'stderr');
      shell.send(Buffer.from('echo me\n'));
      await shell.waitFor((e) => e.type === 'data' && e.data.toString().includes('echo me'), WAIT_MS, 'echo from gnutls-serv');
    } finally {
      shell.close();
      await serv.kill();
    }
  });
}
