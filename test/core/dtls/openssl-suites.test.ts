// Every cipher suite of ours against OpenSSL 3 (`s_server`/`s_client -dtls1_2`) over real UDP on
// 127.0.0.1, in both roles, with RSA and ECDSA certificates on both sides (RSA 2048..4096,
// ECDSA P-256/P-384), each ECDHE group and the RSA signature schemes forced one at a time, and SDP
// fingerprints in every hash we accept. Each run completes the handshake on the suite OpenSSL was
// limited to, exchanges data both ways and checks both sides export the same SRTP keying material.
// Nothing is skipped: if openssl is missing, these tests fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DtlsEndpoint, generateCertificate } from '../../../src/core/dtls/index.ts';
import type { DtlsCertificate, DtlsEvent, RecordAeadFactory } from '../../../src/core/dtls/index.ts';
import { nativeRecordAeadFactory } from '../../../src/transceiver/media/dtls-aead-native.ts';
import { addon as srtpAddon, skipWithoutAddon } from '../../transceiver/helpers/srtp-cross-check.ts';
import { formatFingerprint } from '../../../src/core/dtls/certificate.ts';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites.ts';
import { systemRng } from '../../../src/common/system-rng.ts';
import { makeOpensslIdentity, OPENSSL_KEYS, opensslDtlsArgs, OpensslProcess, opensslKeyingMaterial } from './openssl-process.ts';
import type { OpensslIdentity } from './openssl-process.ts';
import { UdpShell } from './udp-shell.ts';

const WAIT_MS = 15_000;
const KEYING_LENGTH = 60; // SRTP_AES128_CM_HMAC_SHA1_80

const ourEcdsa = generateCertificate();
const ourRsa = generateCertificate(undefined, 'rsa');
const peers: Record<keyof typeof OPENSSL_KEYS, OpensslIdentity> = {} as Record<keyof typeof OPENSSL_KEYS, OpensslIdentity>;

before(() => {
  for (const k of Object.keys(OPENSSL_KEYS) as (keyof typeof OPENSSL_KEYS)[]) peers[k] = makeOpensslIdentity(OPENSSL_KEYS[k]);
});

after(() => {
  for (const p of Object.values(peers)) p.remove();
});

const OPENSSL_NAME: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

/** The peer's fingerprint as an SDP would carry it, in the named hash. */
function fingerprint(peer: OpensslIdentity, hash: 'sha1' | 'sha256' | 'sha384' | 'sha512'): string {
  return formatFingerprint(
    createHash(hash)
      .update(new X509Certificate(readFileSync(peer.cert)).raw)
      .digest(),
  );
}

interface Case {
  suite: string;
  /** Who runs the DTLS server. */
  ourRole: 'client' | 'server';
  ourCert: DtlsCertificate;
  peer: keyof typeof OPENSSL_KEYS;
  hash: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** Extra openssl arguments (groups, signature algorithms). */
  extra: string[];
  /** What openssl must report about the key exchange (s_client only). */
  tempKey?: RegExp;
  /** DtlsOptions.recordAead (the native AEAD); default node:crypto. */
  recordAead?: RecordAeadFactory;
}

const isDone = (e: DtlsEvent): boolean => e.type === 'connected' || e.type === 'failed';

async function run(c: Case): Promise<void> {
  const peer = peers[c.peer];
  const args = opensslDtlsArgs(peer, OPENSSL_NAME[c.suite], 'SRTP_AES128_CM_SHA1_80', KEYING_LENGTH, c.extra);
  const shell = new UdpShell(
    new DtlsEndpoint({
      role: c.ourRole,
      certificate: c.ourCert,
      remoteFingerprint: fingerprint(peer, c.hash),
      rng: systemRng,
      recordAead: c.recordAead,
    }),
  );
  let ossl: OpensslProcess | undefined;
  try {
    if (c.ourRole === 'client') {
      ossl = new OpensslProcess(['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-Verify', '1', ...args]);
      const port = Number((await ossl.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/, WAIT_MS))[1]);
      await shell.bind();
      shell.connect(port);
      shell.start();
    } else {
      const port = await shell.bind();
      shell.start();
      ossl = new OpensslProcess(['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof', ...args]);
    }
    const ev = await shell.waitFor(isDone, WAIT_MS, 'connected');
    assert.equal(ev.type, 'connected', JSON.stringify(ev));
    if (ev.type !== 'connected') return;
    assert.equal(ev.cipherSuite, c.suite);
    const theirs = await opensslKeyingMaterial(ossl, WAIT_MS);
    assert.equal(theirs.toString('hex'), ev.keyingMaterial.toString('hex'), 'both sides export the same keying material');
    shell.send(Buffer.from('hello from parley\n'));
    await ossl.waitFor(/hello from parley/, WAIT_MS);
    ossl.write('hello from openssl\n');
    await shell.waitFor((e) => e.type === 'data' && e.data.toString().includes('hello from openssl'), WAIT_MS, 'data from openssl');
    if (c.ourRole === 'server') {
      await ossl.waitFor(new RegExp(`Cipher is ${OPENSSL_NAME[c.suite]}`), WAIT_MS);
      if (c.tempKey) await ossl.waitFor(c.tempKey, WAIT_MS);
    }
  } finally {
    shell.close();
    await ossl?.kill();
  }
}

// Each suite, both roles. Our certificate is what the suite needs when we serve it, and the other
// kind when we are the client (client certificates are independent of the suite); OpenSSL's
// keys, groups, signature schemes and the fingerprint hash vary across the runs.
const cases: Case[] = [];
const peerKeys = ['rsa2048', 'rsa3072', 'rsa4096', 'p384', 'p256', 'rsa2048'] as const;
const hashes = ['sha256', 'sha1', 'sha384', 'sha512'] as const;
const TEMP_KEY: Record<string, RegExp> = {
  X25519: /Server Temp Key: X25519/,
  'P-256': /Server Temp Key: ECDH, prime256v1/,
  'P-384': /Server Temp Key: ECDH, secp384r1/,
};
/** Our group preference (extensions.ts GROUP_PREFERENCE), in OpenSSL's names. */
const OUR_GROUP_ORDER = ['X25519', 'P-256', 'P-384'];
/**
 * OpenSSL refuses a peer's ECDSA certificate whose curve is not in its own -groups list, so when
 * either certificate is ECDSA P-256, P-256 stays in the list beside the group under test.
 */
function groupsFor(group: string, ecdsaP256InPlay: boolean): { arg: string; ours: string } {
  const list = ecdsaP256InPlay && group !== 'P-256' ? [group, 'P-256'] : [group];
  return { arg: list.join(':'), ours: OUR_GROUP_ORDER.find((g) => list.includes(g))! };
}
for (const [i, s] of CIPHER_SUITES.entries()) {
  const own = s.auth === 'rsa' ? ourRsa : ourEcdsa;
  const other = s.auth === 'rsa' ? ourEcdsa : ourRsa;
  const group = OUR_GROUP_ORDER[i % 3];
  // An RSA-suite peer server must hold an RSA key, an ECDSA-suite one an EC key.
  const serverPeer = s.auth === 'rsa' ? (['rsa2048', 'rsa3072', 'rsa4096'] as const)[i % 3] : (['p256', 'p384'] as const)[i % 2];
  const asServer = groupsFor(group, own === ourEcdsa || peerKeys[i] === 'p256');
  cases.push({
    suite: s.name,
    ourRole: 'server',
    ourCert: own,
    peer: peerKeys[i],
    hash: hashes[i % 4],
    extra: ['-groups', asServer.arg],
    tempKey: TEMP_KEY[asServer.ours],
  });
  const asClient = groupsFor(group, other === ourEcdsa || serverPeer === 'p256');
  cases.push({
    suite: s.name,
    ourRole: 'client',
    ourCert: other,
    peer: serverPeer,
    hash: hashes[(i + 1) % 4],
    extra: ['-groups', asClient.arg],
  });
}

for (const c of cases) {
  test(`${c.ourRole === 'server' ? 'openssl s_client ⇄ our server' : 'our client ⇄ openssl s_server'}: ${c.suite}, our ${c.ourCert.privateKey.asymmetricKeyType} cert, openssl ${c.peer}, ${c.hash} fingerprint, ${c.extra.join(' ')}`, async () => {
    await run(c);
  });
}

// Signature schemes one at a time (RFC 8446 §4.2.3 code points in TLS 1.2): what OpenSSL signs
// with and what it accepts from us.
const RSA_SUITE = 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256';
for (const sigalg of ['RSA+SHA256', 'RSA+SHA384', 'rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384']) {
  test(`our RSA server signs with ${sigalg} when that is all openssl s_client accepts; openssl's RSA CertificateVerify too`, async () => {
    await run({ suite: RSA_SUITE, ourRole: 'server', ourCert: ourRsa, peer: 'rsa2048', hash: 'sha256', extra: ['-sigalgs', sigalg] });
  });
  test(`our RSA client verifies an openssl s_server signing with ${sigalg}, and signs its CertificateVerify with it`, async () => {
    await run({
      suite: RSA_SUITE,
      ourRole: 'client',
      ourCert: ourRsa,
      peer: 'rsa2048',
      hash: 'sha256',
      extra: ['-sigalgs', sigalg, '-client_sigalgs', sigalg],
    });
  });
}
for (const [sigalg, peer] of [
  ['ECDSA+SHA256', 'p256'],
  ['ECDSA+SHA384', 'p384'],
] as const) {
  test(`ECDSA ${sigalg} with a ${peer} openssl key: both roles`, async () => {
    const suite = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256';
    await run({ suite, ourRole: 'server', ourCert: ourEcdsa, peer, hash: 'sha256', extra: ['-client_sigalgs', sigalg] });
    await run({ suite, ourRole: 'client', ourCert: ourEcdsa, peer, hash: 'sha256', extra: ['-sigalgs', sigalg] });
  });
}

test(
  'the native record AEAD (AES-128-GCM keyed once, src/transceiver/media/dtls-aead-native.ts) against openssl: both roles, data both ways',
  { skip: skipWithoutAddon },
  async () => {
    const recordAead = nativeRecordAeadFactory(srtpAddon());
    const suite = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256';
    await run({ suite, ourRole: 'server', ourCert: ourEcdsa, peer: 'p256', hash: 'sha256', extra: [], recordAead });
    await run({ suite, ourRole: 'client', ourCert: ourEcdsa, peer: 'p256', hash: 'sha256', extra: [], recordAead });
  },
);

test('server suite choice: with every suite offered, our ECDSA server picks AES-128-GCM and our RSA server its RSA twin', async () => {
  const all = Object.values(OPENSSL_NAME).join(':');
  for (const [cert, suite] of [
    [ourEcdsa, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
    [ourRsa, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  ] as const) {
    await run({ suite, ourRole: 'server', ourCert: cert, peer: 'rsa2048', hash: 'sha256', extra: ['-cipher', all] });
  }
});
