// Interop with a real DTLS 1.2 implementation: OpenSSL 3 `s_server` and `s_client` on
// 127.0.0.1, driven against our endpoint through a thin UDP shell. Each test completes the
// handshake (mutual ECDSA certificates, EMS, use_srtp), exchanges application data both ways
// and checks that both sides export the same EXTRACTOR-dtls_srtp keying material.
// Nothing is skipped: if openssl is missing, these tests fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DtlsEndpoint, generateCertificate } from '../../../src/core/dtls/index.ts';
import type { DtlsEvent, SrtpProfileName } from '../../../src/core/dtls/index.ts';
import { systemRng } from '../../../src/common/system-rng.ts';
import { makeOpensslIdentity, opensslDtlsArgs, OpensslProcess, opensslKeyingMaterial } from './openssl-process.ts';
import type { OpensslIdentity } from './openssl-process.ts';
import { UdpShell } from './udp-shell.ts';

const WAIT_MS = 10_000;
const ours = generateCertificate();
let peer: OpensslIdentity;

before(() => {
  peer = makeOpensslIdentity();
});

after(() => {
  peer.remove();
});

const opensslProfile: Record<SrtpProfileName, string> = {
  SRTP_AES128_CM_HMAC_SHA1_80: 'SRTP_AES128_CM_SHA1_80',
  SRTP_AEAD_AES_128_GCM: 'SRTP_AEAD_AES_128_GCM',
};
const keyLength: Record<SrtpProfileName, number> = { SRTP_AES128_CM_HMAC_SHA1_80: 60, SRTP_AEAD_AES_128_GCM: 56 };

function commonArgs(profile: SrtpProfileName, extra: string[]): string[] {
  return opensslDtlsArgs(peer, 'ECDHE-ECDSA-AES128-GCM-SHA256', opensslProfile[profile], keyLength[profile], extra);
}

const isConnected = (e: DtlsEvent): boolean => e.type === 'connected' || e.type === 'failed';

async function exchange(shell: UdpShell, ossl: OpensslProcess, profile: SrtpProfileName): Promise<void> {
  const ev = await shell.waitFor(isConnected, WAIT_MS, 'connected');
  assert.equal(ev.type, 'connected', JSON.stringify(ev));
  if (ev.type !== 'connected') return;
  assert.equal(ev.srtpProfile, profile);
  assert.equal(ev.keyingMaterial.length, keyLength[profile]);
  const theirs = await opensslKeyingMaterial(ossl, WAIT_MS);
  assert.equal(theirs.toString('hex'), ev.keyingMaterial.toString('hex'), 'both sides export the same keying material');
  shell.send(Buffer.from('hello from parley\n'));
  await ossl.waitFor(/hello from parley/, WAIT_MS);
  ossl.write('hello from openssl\n');
  const data = await shell.waitFor(
    (e) => e.type === 'data' && e.data.toString().includes('hello from openssl'),
    WAIT_MS,
    'data from openssl',
  );
  assert.equal(data.type, 'data');
  assert.equal(shell.events.filter((e) => e.type === 'connected').length, 1);
}

type Lose = { incoming?: number[]; outgoing?: number[] };

async function ourClientAgainstServer(profile: SrtpProfileName, extra: string[], mtu?: number, lose?: Lose): Promise<void> {
  const ossl = new OpensslProcess(['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-Verify', '1', ...commonArgs(profile, extra)]);
  const shell = new UdpShell(
    new DtlsEndpoint({
      role: 'client',
      certificate: ours,
      remoteFingerprint: peer.fingerprint,
      rng: systemRng,
      srtpProfiles: [profile],
      mtu,
    }),
    lose,
  );
  try {
    const port = Number((await ossl.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/, WAIT_MS))[1]);
    await shell.bind();
    shell.connect(port);
    shell.start();
    await exchange(shell, ossl, profile);
    // s_server verified our certificate (self-signed: chain error 18 is expected, a cert was required).
    await ossl.waitFor(/Client certificate/, WAIT_MS);
  } finally {
    shell.close();
    await ossl.kill();
  }
}

async function clientAgainstOurServer(
  profile: SrtpProfileName,
  extra: string[],
  opts: { cookie?: boolean; mtu?: number } = {},
  tempKey = /Server Temp Key: X25519/,
  lose?: Lose,
): Promise<void> {
  const shell = new UdpShell(
    new DtlsEndpoint({
      role: 'server',
      certificate: ours,
      remoteFingerprint: peer.fingerprint,
      rng: systemRng,
      srtpProfiles: [profile],
      ...opts,
    }),
    lose,
  );
  const port = await shell.bind();
  shell.start();
  const ossl = new OpensslProcess(['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof', ...commonArgs(profile, extra)]);
  try {
    await exchange(shell, ossl, profile);
    await ossl.waitFor(/Extended master secret: yes/, WAIT_MS);
    await ossl.waitFor(tempKey, WAIT_MS);
  } finally {
    shell.close();
    await ossl.kill();
  }
}

test('our client ⇄ openssl s_server: SRTP_AES128_CM_HMAC_SHA1_80 over X25519, data both ways, same keys', async () => {
  await ourClientAgainstServer('SRTP_AES128_CM_HMAC_SHA1_80', []);
});

test('our client ⇄ openssl s_server: SRTP_AEAD_AES_128_GCM over P-256, data both ways, same keys', async () => {
  await ourClientAgainstServer('SRTP_AEAD_AES_128_GCM', ['-groups', 'P-256']);
});

test('our client ⇄ openssl s_server -listen: answers a real HelloVerifyRequest cookie', async () => {
  await ourClientAgainstServer('SRTP_AES128_CM_HMAC_SHA1_80', ['-listen']);
});

// OpenSSL refuses link MTUs much below 300; ours goes lower. Both sides fragment their certificates.
test('our client (200-byte MTU) ⇄ openssl s_server (300-byte MTU): fragmented flights both ways', async () => {
  await ourClientAgainstServer('SRTP_AES128_CM_HMAC_SHA1_80', ['-mtu', '300'], 200);
});

test('openssl s_client ⇄ our server: SRTP_AES128_CM_HMAC_SHA1_80 over X25519, data both ways, same keys', async () => {
  await clientAgainstOurServer('SRTP_AES128_CM_HMAC_SHA1_80', []);
});

test('openssl s_client ⇄ our server: SRTP_AEAD_AES_128_GCM over P-256, data both ways, same keys', async () => {
  await clientAgainstOurServer('SRTP_AEAD_AES_128_GCM', ['-groups', 'P-256'], {}, /Server Temp Key: ECDH, prime256v1/);
});

test('openssl s_client ⇄ our server with cookie exchange on', async () => {
  await clientAgainstOurServer('SRTP_AES128_CM_HMAC_SHA1_80', [], { cookie: true });
});

test('openssl s_client (300-byte MTU) ⇄ our server (200-byte MTU): fragmented flights both ways', async () => {
  await clientAgainstOurServer('SRTP_AES128_CM_HMAC_SHA1_80', ['-mtu', '300'], { mtu: 200 });
});

// Lost datagrams force both implementations to retransmit to each other (RFC 6347 §4.2.4).
test('our client ⇄ openssl s_server with the first datagrams lost each way: retransmissions recover', async () => {
  // s_server does a cookie exchange by default. Our datagrams: 0 ClientHello (lost), 1 its
  // retransmission, whose HelloVerifyRequest (their 0) is lost, 2 ClientHello again, 3 ClientHello
  // with the cookie (lost), 4 its retransmission, 5 our final flight (lost), 6 its retransmission.
  await ourClientAgainstServer('SRTP_AES128_CM_HMAC_SHA1_80', [], undefined, { outgoing: [0, 3, 5], incoming: [0] });
});

test('openssl s_client ⇄ our server with the first datagrams lost each way: retransmissions recover', async () => {
  // s_client's first ClientHello is lost; our datagrams: 0 server flight (lost), 1 its
  // retransmission, 2 our final flight (lost), 3 resent when s_client resends its Finished.
  await clientAgainstOurServer('SRTP_AES128_CM_HMAC_SHA1_80', [], {}, undefined, { incoming: [0], outgoing: [0, 2] });
});

test('our client refuses openssl s_server when its certificate is not the SDP fingerprint', async () => {
  const ossl = new OpensslProcess([
    's_server',
    '-accept',
    '127.0.0.1:0',
    '-naccept',
    '1',
    '-Verify',
    '1',
    ...commonArgs('SRTP_AES128_CM_HMAC_SHA1_80', []),
  ]);
  const shell = new UdpShell(new DtlsEndpoint({ role: 'client', certificate: ours, remoteFingerprint: ours.fingerprint, rng: systemRng }));
  try {
    const port = Number((await ossl.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/, WAIT_MS))[1]);
    await shell.bind();
    shell.connect(port);
    shell.start();
    const ev = await shell.waitFor(isConnected, WAIT_MS, 'failed');
    assert.equal(ev.type, 'failed');
    if (ev.type === 'failed') assert.equal(ev.reason.code, 'ERR_DTLS_FINGERPRINT_MISMATCH');
  } finally {
    shell.close();
    await ossl.kill();
  }
});

test('openssl s_client asks to renegotiate after connect: our server ignores it and stays connected', async () => {
  const shell = new UdpShell(new DtlsEndpoint({ role: 'server', certificate: ours, remoteFingerprint: peer.fingerprint, rng: systemRng }));
  const port = await shell.bind();
  shell.start();
  const ossl = new OpensslProcess(['s_client', '-connect', `127.0.0.1:${port}`, ...commonArgs('SRTP_AES128_CM_HMAC_SHA1_80', [])]);
  try {
    await shell.waitFor(isConnected, WAIT_MS, 'connected');
    await opensslKeyingMaterial(ossl, WAIT_MS);
    ossl.write('R\n'); // s_client command: start a renegotiation (an epoch-1 ClientHello)
    await ossl.waitFor(/RENEGOTIATING/, WAIT_MS, 'stderr');
    // Long enough for OpenSSL's first retransmission of that ClientHello (1 s timer).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(shell.endpoint.state, 'connected');
    assert.deepEqual(
      shell.events.map((e) => e.type),
      ['connected'],
    );
  } finally {
    shell.close();
    await ossl.kill();
  }
});

test('openssl s_client offering only a CBC suite gets handshake_failure from our server', async () => {
  const shell = new UdpShell(new DtlsEndpoint({ role: 'server', certificate: ours, remoteFingerprint: peer.fingerprint, rng: systemRng }));
  const port = await shell.bind();
  shell.start();
  const args = commonArgs('SRTP_AES128_CM_HMAC_SHA1_80', []).map((a) =>
    a === 'ECDHE-ECDSA-AES128-GCM-SHA256' ? 'ECDHE-ECDSA-AES128-SHA256' : a,
  );
  const ossl = new OpensslProcess(['s_client', '-connect', `127.0.0.1:${port}`, ...args]);
  try {
    const ev = await shell.waitFor(isConnected, WAIT_MS, 'failed');
    assert.equal(ev.type === 'failed' && ev.reason.code, 'ERR_DTLS_NO_SHARED_CIPHER');
    await ossl.waitFor(/alert handshake failure/, WAIT_MS, 'stderr');
  } finally {
    shell.close();
    await ossl.kill();
  }
});
