// In-memory handshakes between our own client and server over a perfect simulated network:
// completion, key agreement, SRTP profile choice, cookie exchange, fragmentation to a tiny MTU,
// application data and close_notify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseRecords } from '../../../src/core/dtls/record.ts';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites.ts';
import { bothConnected, certsOf, clientCert, drive, eventsOfType, makePair } from './harness.ts';

test('client and server complete a handshake and export identical SRTP keying material', () => {
  const p = makePair('basic');
  p.client.start(0);
  p.server.start(0);
  drive(p, { done: bothConnected(p) });
  const [c] = eventsOfType(p.clientEvents, 'connected');
  const [s] = eventsOfType(p.serverEvents, 'connected');
  assert.equal(c.srtpProfile, 'SRTP_AES128_CM_HMAC_SHA1_80');
  assert.equal(s.srtpProfile, 'SRTP_AES128_CM_HMAC_SHA1_80');
  assert.equal(c.keyingMaterial.length, 60);
  assert.deepEqual(c.keyingMaterial, s.keyingMaterial);
  assert.deepEqual(p.client.exportKeyingMaterial('EXPERIMENTAL-x', 20), p.server.exportKeyingMaterial('EXPERIMENTAL-x', 20));
  assert.equal(p.client.pollTimeout(), undefined);
  assert.equal(p.server.pollTimeout(), undefined);
});

test('the server picks the SRTP profile by its own preference order (RFC 5764 §4.1.1)', () => {
  const p = makePair('prefs', {
    client: { srtpProfiles: ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'] },
    server: { srtpProfiles: ['SRTP_AEAD_AES_128_GCM', 'SRTP_AES128_CM_HMAC_SHA1_80'] },
  });
  p.client.start(0);
  drive(p, { done: bothConnected(p) });
  const [c] = eventsOfType(p.clientEvents, 'connected');
  const [s] = eventsOfType(p.serverEvents, 'connected');
  assert.equal(c.srtpProfile, 'SRTP_AEAD_AES_128_GCM');
  assert.equal(s.srtpProfile, 'SRTP_AEAD_AES_128_GCM');
  assert.equal(c.keyingMaterial.length, 56);
  assert.deepEqual(c.keyingMaterial, s.keyingMaterial);
});

test('no common SRTP profile fails the handshake with a typed reason', () => {
  const p = makePair('noprofile', {
    client: { srtpProfiles: ['SRTP_AEAD_AES_128_GCM'] },
    server: { srtpProfiles: ['SRTP_AES128_CM_HMAC_SHA1_80'] },
  });
  p.client.start(0);
  drive(p, { done: () => p.client.state === 'failed' });
  assert.equal(eventsOfType(p.serverEvents, 'failed')[0].reason.code, 'ERR_DTLS_NO_SRTP_PROFILE');
  assert.equal(eventsOfType(p.clientEvents, 'failed')[0].reason.code, 'ERR_DTLS_PEER_ALERT');
});

test('HelloVerifyRequest cookie exchange (RFC 6347 §4.2.1) completes with the cookie transcript rules', () => {
  const p = makePair('cookie', { server: { cookie: true } });
  const helloSeqs: number[] = [];
  const verifySeqs: number[] = [];
  p.client.start(0);
  // Deliver the first ClientHello by hand with a distinctive record sequence number (7).
  const hello = Buffer.from(p.client.pollTransmit()!);
  hello.writeUIntBE(7, 5, 6);
  p.server.handle(hello, 0);
  drive(p, {
    done: bothConnected(p),
    tap: (from, d) => {
      for (const r of parseRecords(d)) {
        if (r.type !== 22 || r.epoch !== 0) continue;
        if (from === 'server' && r.fragment[0] === 3) verifySeqs.push(r.seq);
        if (from === 'client' && r.fragment[0] === 1) helloSeqs.push(r.seq);
      }
      return d;
    },
  });
  assert.deepEqual(verifySeqs, [7], 'one HelloVerifyRequest, echoing the ClientHello record sequence number');
  assert.ok(helloSeqs.length >= 1, 'the client sent its second ClientHello');
  assert.deepEqual(
    eventsOfType(p.clientEvents, 'connected')[0].keyingMaterial,
    eventsOfType(p.serverEvents, 'connected')[0].keyingMaterial,
  );
});

test('flights fragment to a tiny MTU and reassemble (RFC 6347 §4.2.3)', () => {
  const p = makePair('mtu', { client: { mtu: 64 }, server: { mtu: 80 } });
  let max = 0;
  let datagrams = 0;
  p.client.start(0);
  drive(p, {
    done: bothConnected(p),
    tap: (from, d) => {
      datagrams++;
      max = Math.max(max, d.length - (from === 'client' ? 64 : 80));
      return d;
    },
  });
  assert.ok(max <= 0, 'no datagram exceeds its MTU');
  assert.ok(datagrams > 20, `flights were fragmented (${datagrams} datagrams)`);
  assert.deepEqual(
    eventsOfType(p.clientEvents, 'connected')[0].keyingMaterial,
    eventsOfType(p.serverEvents, 'connected')[0].keyingMaterial,
  );
});

test('application data flows both ways after connected, and close_notify closes both sides', () => {
  const p = makePair('data');
  p.client.start(0);
  const t = drive(p, { done: bothConnected(p) });
  p.client.send(Buffer.from('hello server'));
  p.server.send(Buffer.from('hello client'));
  drive(p, { start: t, maxSteps: 20 });
  assert.deepEqual(
    eventsOfType(p.serverEvents, 'data').map((e) => e.data.toString()),
    ['hello server'],
  );
  assert.deepEqual(
    eventsOfType(p.clientEvents, 'data').map((e) => e.data.toString()),
    ['hello client'],
  );
  p.client.close();
  p.client.close();
  drive(p, { start: t + 100, maxSteps: 20 });
  assert.equal(p.client.state, 'closed');
  assert.equal(p.server.state, 'closed');
  assert.equal(eventsOfType(p.clientEvents, 'closed').length, 1);
  assert.equal(eventsOfType(p.serverEvents, 'closed').length, 1);
  assert.equal(p.client.pollTimeout(), undefined, 'nothing left armed');
  assert.equal(p.server.pollTimeout(), undefined);
  assert.equal(p.client.pollTransmit(), undefined);
  assert.throws(() => p.client.send(Buffer.from('x')), { code: 'ERR_DTLS_NOT_CONNECTED' });
});

test('send before connected and bad options throw typed errors', () => {
  const p = makePair('misuse');
  assert.throws(() => p.client.send(Buffer.from('x')), { code: 'ERR_DTLS_NOT_CONNECTED' });
  assert.throws(() => p.client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60), { code: 'ERR_DTLS_NOT_CONNECTED' });
  assert.throws(() => makePair('bad', { client: { remoteFingerprint: 'AB:CD' } }), { code: 'ERR_DTLS_INVALID_OPTIONS' });
  assert.throws(() => makePair('bad', { client: { mtu: 10 } }), { code: 'ERR_DTLS_INVALID_OPTIONS' });
  assert.throws(() => makePair('bad', { client: { srtpProfiles: [] } }), { code: 'ERR_DTLS_INVALID_OPTIONS' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  assert.throws(() => makePair('bad', { client: { certificate: { ...clientCert, privateKey: rsa } } }), {
    code: 'ERR_DTLS_INVALID_OPTIONS',
  });
});

test('application data that overtakes the server Finished is delivered right after connected, not before', () => {
  const p = makePair('early-data');
  p.client.start(0);
  let finalFlight: Buffer | undefined;
  const t = drive(p, {
    done: () => p.server.state === 'connected',
    tap: (from, d) => {
      if (from === 'server' && d[0] === 20) {
        finalFlight = d;
        return undefined;
      }
      return d;
    },
  });
  p.server.send(Buffer.from('early'));
  p.client.handle(p.server.pollTransmit()!, t);
  assert.equal(p.client.pollEvent(), undefined, 'nothing delivered before the Finished verifies');
  p.client.handle(finalFlight!, t);
  assert.equal(p.client.pollEvent()?.type, 'connected');
  const e = p.client.pollEvent();
  assert.equal(e?.type === 'data' && e.data.toString(), 'early');
});

test('keying-material export refuses TLS’s own PRF labels and absurd lengths (RFC 5705 §4)', () => {
  const p = makePair('export');
  p.client.start(0);
  drive(p, { done: bothConnected(p) });
  assert.throws(() => p.client.exportKeyingMaterial('key expansion', 40), { code: 'ERR_DTLS_INVALID_OPTIONS' });
  assert.throws(() => p.client.exportKeyingMaterial('master secret', 48), { code: 'ERR_DTLS_INVALID_OPTIONS' });
  assert.throws(() => p.client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 0), { code: 'ERR_DTLS_INVALID_OPTIONS' });
  assert.equal(p.client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60).length, 60);
});

test('every suite connects, ECDSA and RSA certificates on either side: same suite, same keys, data both ways', () => {
  for (const [i, suite] of CIPHER_SUITES.entries()) {
    const server = certsOf(suite.auth);
    // The client certificate is independent of the suite: alternate the kinds.
    const client = certsOf(i % 2 === 0 ? 'rsa' : 'ecdsa');
    const p = makePair(`suite-${suite.name}`, {
      client: { certificate: client.client, remoteFingerprint: server.server.fingerprint, cipherSuites: [suite.name] },
      server: { certificate: server.server, remoteFingerprint: client.client.fingerprint },
    });
    p.client.start(0);
    const now = drive(p, { done: bothConnected(p) });
    const [c] = eventsOfType(p.clientEvents, 'connected');
    const [s] = eventsOfType(p.serverEvents, 'connected');
    assert.equal(c?.cipherSuite, suite.name);
    assert.equal(s?.cipherSuite, suite.name);
    assert.deepEqual(c.keyingMaterial, s.keyingMaterial);
    p.client.send(Buffer.from(`up ${suite.name}`));
    p.server.send(Buffer.from(`down ${suite.name}`));
    p.server.handle(p.client.pollTransmit()!, now);
    p.client.handle(p.server.pollTransmit()!, now);
    const got = (ep: typeof p.client): string[] => {
      const out: string[] = [];
      for (let e = ep.pollEvent(); e; e = ep.pollEvent()) if (e.type === 'data') out.push(e.data.toString());
      return out;
    };
    assert.deepEqual(got(p.server), [`up ${suite.name}`]);
    assert.deepEqual(got(p.client), [`down ${suite.name}`]);
  }
});

test('server suite choice is ours: AES-128-GCM, then ChaCha20-Poly1305, then AES-256-GCM, whatever the client order', () => {
  const expect = (offer: string[], cert: 'ecdsa' | 'rsa', chosen: string): void => {
    const certs = certsOf(cert);
    const p = makePair(`choice-${offer.join()}`, {
      client: { remoteFingerprint: certs.server.fingerprint, cipherSuites: offer },
      server: { certificate: certs.server },
    });
    p.client.start(0);
    drive(p, { done: bothConnected(p) });
    assert.equal(eventsOfType(p.serverEvents, 'connected')[0]?.cipherSuite, chosen, offer.join());
  };
  const names = CIPHER_SUITES.map((s) => s.name);
  expect([...names].reverse(), 'ecdsa', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  expect([...names].reverse(), 'rsa', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  expect(
    names.filter((n) => !n.includes('AES_128')),
    'ecdsa',
    'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  );
  expect(
    names.filter((n) => n.includes('AES_256')),
    'rsa',
    'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  );
});

test('handshakes one after another share what the server builds once (Certificate message, CertificateRequest, ServerHello extensions) and nothing else: each connects with its own keys, each server certificate sends its own', () => {
  const { client, server, other } = certsOf('ecdsa');
  const keys: string[] = [];
  // Alternating server certificates (ECDSA, RSA): a Certificate message kept for the wrong
  // certificate would fail the client's fingerprint check.
  const rsa = certsOf('rsa').server;
  for (let i = 0; i < 6; i++) {
    const cert = [server, rsa, other][i % 3];
    const p = makePair(`shared-${i}`, {
      client: { certificate: client, remoteFingerprint: cert.fingerprint },
      server: { certificate: cert, remoteFingerprint: client.fingerprint, cookie: i % 2 === 0 },
    });
    p.client.start(0);
    p.server.start(0);
    drive(p, { done: bothConnected(p) });
    const [c] = eventsOfType(p.clientEvents, 'connected');
    const [s] = eventsOfType(p.serverEvents, 'connected');
    assert.ok(c && s, `handshake ${i} connected`);
    assert.deepEqual(c.keyingMaterial, s.keyingMaterial);
    keys.push(c.keyingMaterial.toString('hex'));
  }
  assert.equal(new Set(keys).size, keys.length); // fresh secrets each time
});
