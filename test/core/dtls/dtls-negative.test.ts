// Attacks and protocol violations: each must end the handshake with a typed reason (and the
// right alert), or be ignored without side effects — never throw out of handle(). The signature,
// Finished and downgrade attacks run for every cipher suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DtlsEvent } from '../../../src/core/dtls/index.ts';
import { DtlsEndpoint } from '../../../src/core/dtls/index.ts';
import { ExtensionType } from '../../../src/core/dtls/extensions.ts';
import {
  encodeCertificate,
  encodeClientHello,
  encodeFragment,
  encodeServerHello,
  HandshakeType,
  parseClientHello,
  parseHandshakeFragments,
  parseServerHello,
} from '../../../src/core/dtls/handshake.ts';
import type { FlightEntry } from '../../../src/core/dtls/flight.ts';
import { ContentType, encodeRecord, parseRecords } from '../../../src/core/dtls/record.ts';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { EvilPeer, pump } from './evil-peer.ts';
import { bothConnected, certsOf, clientCert, drive, eventsOfType, makePair, otherCert, serverCert } from './harness.ts';
import type { Pair } from './harness.ts';

/** Rewrites the body of every unfragmented epoch-0 handshake message of `type` in a datagram. */
function rewrite(datagram: Buffer, type: number, fn: (body: Buffer) => Buffer): Buffer {
  return Buffer.concat(
    parseRecords(datagram).map((r) => {
      if (r.epoch !== 0 || r.type !== ContentType.handshake) return encodeRecord(r.type, r.version, r.epoch, r.seq, r.fragment);
      const frags = parseHandshakeFragments(r.fragment).map((f) =>
        f.msgType === type && f.fragmentOffset === 0 && f.body.length === f.length
          ? encodeFragment(type, f.messageSeq, fn(f.body), 0, fn(f.body).length)
          : encodeFragment(
              f.msgType,
              f.messageSeq,
              Buffer.concat([Buffer.alloc(f.fragmentOffset), f.body]),
              f.fragmentOffset,
              f.body.length,
            ),
      );
      return encodeRecord(r.type, r.version, r.epoch, r.seq, Buffer.concat(frags));
    }),
  );
}

function withoutExtension(raw: Buffer | undefined, drop: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; raw && i < raw.length;) {
    const len = raw.readUInt16BE(i + 2);
    if (raw.readUInt16BE(i) !== drop) out.push(raw.subarray(i, i + 4 + len));
    i += 4 + len;
  }
  return Buffer.concat(out);
}

function drainEvents(ep: DtlsEndpoint): DtlsEvent[] {
  const events: DtlsEvent[] = [];
  for (let e = ep.pollEvent(); e; e = ep.pollEvent()) events.push(e);
  return events;
}

function failure(events: DtlsEvent[]): string | undefined {
  const f = eventsOfType(events, 'failed');
  return f.length === 1 ? f[0].reason.code : undefined;
}

/** The fatal alert descriptions an endpoint sent in plaintext (epoch 0) records. */
function alertsIn(datagrams: Buffer[]): number[] {
  return datagrams
    .flatMap((d) => parseRecords(d))
    .filter((r) => r.type === ContentType.alert && r.epoch === 0)
    .map((r) => r.fragment[1]);
}

/**
 * Drives a fresh pair while a man in the middle rewrites every `type` handshake message one side
 * sends, until both sides fail; returns the pair and the datagrams the server sent.
 */
function driveRewritten(
  seed: string,
  from: 'client' | 'server',
  type: number,
  fn: (body: Buffer) => Buffer,
  over: Parameters<typeof makePair>[1] = {},
): { p: Pair; fromServer: Buffer[] } {
  const p = makePair(seed, over);
  const fromServer: Buffer[] = [];
  p.client.start(0);
  drive(p, {
    done: () => p.server.state === 'failed' && p.client.state === 'failed',
    tap: (side, d) => {
      if (side === 'server') fromServer.push(d);
      return side === from ? rewrite(d, type, fn) : d;
    },
  });
  return { p, fromServer };
}

function connect(seed: string): { pair: Pair; now: number } {
  const pair = makePair(seed);
  pair.client.start(0);
  const now = drive(pair, { done: bothConnected(pair) });
  return { pair, now };
}

test('server certificate that does not match the SDP fingerprint: client fails with bad_certificate', () => {
  const p = makePair('fp-server', { client: { remoteFingerprint: otherCert.fingerprint } });
  p.client.start(0);
  drive(p, { done: () => p.server.state === 'failed' });
  assert.equal(failure(p.clientEvents), 'ERR_DTLS_FINGERPRINT_MISMATCH');
  assert.equal(failure(p.serverEvents), 'ERR_DTLS_PEER_ALERT');
  assert.match(eventsOfType(p.serverEvents, 'failed')[0].reason.message, /alert 42/);
});

test('client certificate that does not match the SDP fingerprint: server fails with bad_certificate', () => {
  const p = makePair('fp-client', { server: { remoteFingerprint: otherCert.fingerprint } });
  p.client.start(0);
  drive(p, { done: () => p.client.state === 'failed' });
  assert.equal(failure(p.serverEvents), 'ERR_DTLS_FINGERPRINT_MISMATCH');
  assert.equal(failure(p.clientEvents), 'ERR_DTLS_PEER_ALERT');
});

/** The handshake message types of a datagram's epoch-0 handshake records, in order. */
function handshakeTypes(datagram: Buffer | undefined): number[] {
  if (datagram === undefined) return [];
  return parseRecords(datagram)
    .filter((r) => r.epoch === 0 && r.type === ContentType.handshake)
    .flatMap((r) => parseHandshakeFragments(r.fragment).map((f) => f.msgType));
}

test('a ClientHello with a forged cookie, or the cookie of another random or suite list, gets another HelloVerifyRequest', () => {
  const tampers: [string, (ch: ReturnType<typeof parseClientHello>) => ReturnType<typeof parseClientHello>][] = [
    ['genuine', (ch) => ch],
    ['one cookie bit flipped', (ch) => ({ ...ch, cookie: Buffer.from(ch.cookie.map((b, i) => (i === 3 ? b ^ 1 : b))) })],
    ['another random', (ch) => ({ ...ch, random: Buffer.alloc(32, 7) })],
    ['another suite list', (ch) => ({ ...ch, cipherSuites: ch.cipherSuites.slice(1) })],
    ['no cookie', (ch) => ({ ...ch, cookie: Buffer.alloc(0) })],
  ];
  for (const [what, tamper] of tampers) {
    const p = makePair('cookie-forgery', { server: { cookie: true } });
    p.client.start(0);
    p.server.handle(p.client.pollTransmit()!, 0);
    const hvr = p.server.pollTransmit();
    assert.deepEqual(handshakeTypes(hvr), [HandshakeType.helloVerifyRequest]);
    p.client.handle(hvr!, 0);
    const second = p.client.pollTransmit()!;
    assert.equal(parseClientHello(parseHandshakeFragments(parseRecords(second)[0].fragment)[0].body).cookie.length, 20);
    p.server.handle(
      rewrite(second, HandshakeType.clientHello, (b) => encodeClientHello(tamper(parseClientHello(b)))),
      1,
    );
    const answer = handshakeTypes(p.server.pollTransmit())[0];
    assert.equal(answer, what === 'genuine' ? HandshakeType.serverHello : HandshakeType.helloVerifyRequest, what);
  }
});

test('a client that sends no certificate is refused (WebRTC requires mutual authentication)', () => {
  for (const variant of ['omitted', 'empty'] as const) {
    const server = new DtlsEndpoint({
      role: 'server',
      certificate: serverCert,
      remoteFingerprint: clientCert.fingerprint,
      rng: seededRng('nocert'),
    });
    const evil = new EvilPeer('client', clientCert, serverCert.fingerprint, (flight) => {
      if (!flight.some((e) => e.kind === 'handshake' && e.msgType === HandshakeType.certificate)) return flight;
      if (variant === 'empty')
        return flight.map((e) =>
          e.kind === 'handshake' && e.msgType === HandshakeType.certificate ? { ...e, body: encodeCertificate([]) } : e,
        );
      return flight
        .filter((e) => !(e.kind === 'handshake' && e.msgType === HandshakeType.certificate))
        .map((e) => (e.kind === 'handshake' ? { ...e, seq: e.seq - 1 } : e));
    });
    evil.start();
    pump(evil, server);
    assert.equal(failure(drainEvents(server)), 'ERR_DTLS_NO_CLIENT_CERTIFICATE', variant);
  }
});

test('a ClientHello offering only an unknown cipher suite gets a handshake_failure alert and a typed reason', () => {
  const { p, fromServer } = driveRewritten('unknown-suite', 'client', HandshakeType.clientHello, (b) =>
    encodeClientHello({ ...parseClientHello(b), cipherSuites: [0x009c] }),
  );
  assert.equal(failure(p.serverEvents), 'ERR_DTLS_NO_SHARED_CIPHER');
  assert.deepEqual(alertsIn(fromServer), [40]);
  assert.equal(failure(p.clientEvents), 'ERR_DTLS_PEER_ALERT');
});

test('a client without extended_master_secret is refused (RFC 7627 §5.3)', () => {
  const { p } = driveRewritten('no-ems-client', 'client', HandshakeType.clientHello, (b) => {
    const ch = parseClientHello(b);
    return encodeClientHello({ ...ch, extensions: withoutExtension(ch.extensions, ExtensionType.extendedMasterSecret) });
  });
  assert.equal(failure(p.serverEvents), 'ERR_DTLS_NO_EXTENDED_MASTER_SECRET');
});

test('a server without extended_master_secret is refused (RFC 7627 §5.3)', () => {
  const { p } = driveRewritten('no-ems-server', 'server', HandshakeType.serverHello, (b) => {
    const sh = parseServerHello(b);
    return encodeServerHello({ ...sh, extensions: withoutExtension(sh.extensions, ExtensionType.extendedMasterSecret) });
  });
  assert.equal(failure(p.clientEvents), 'ERR_DTLS_NO_EXTENDED_MASTER_SECRET');
  assert.equal(failure(p.serverEvents), 'ERR_DTLS_PEER_ALERT');
});

test('a replayed application-data record is ignored: delivered once (RFC 6347 §4.1.2.6)', () => {
  const { pair } = connect('replay');
  pair.client.send(Buffer.from('once'));
  const record = pair.client.pollTransmit()!;
  pair.server.handle(record, 1000);
  pair.server.handle(record, 1001);
  for (let i = 0; i < 100; i++) pair.client.send(Buffer.from(`later ${i}`));
  for (let d = pair.client.pollTransmit(); d; d = pair.client.pollTransmit()) pair.server.handle(d, 1002);
  pair.server.handle(record, 1003); // now far behind the window
  const data: string[] = [];
  for (let e = pair.server.pollEvent(); e; e = pair.server.pollEvent()) if (e.type === 'data') data.push(e.data.toString());
  assert.equal(data.filter((d) => d === 'once').length, 1);
  assert.equal(data.length, 101);
  assert.equal(pair.server.state, 'connected');
  assert.equal(pair.server.drops.replay, 2, 'both replays counted as such');
});

test('a late ClientHello after connect is ignored: still connected, nothing sent, no reset', () => {
  const { pair, now } = connect('late-hello');
  const stranger = new DtlsEndpoint({
    role: 'client',
    certificate: clientCert,
    remoteFingerprint: serverCert.fingerprint,
    rng: seededRng('late'),
  });
  stranger.start(now);
  const hello = stranger.pollTransmit()!;
  pair.server.handle(hello, now + 1);
  // Also with the next message_seq the server would expect (a would-be renegotiation).
  const next = Buffer.from(hello);
  next.writeUInt16BE(5, 13 + 4);
  pair.server.handle(next, now + 2);
  assert.equal(pair.server.state, 'connected');
  assert.equal(pair.server.pollTransmit(), undefined);
  assert.equal(pair.server.pollEvent(), undefined);
  pair.client.send(Buffer.from('still here'));
  pair.server.handle(pair.client.pollTransmit()!, now + 3);
  const e = pair.server.pollEvent();
  assert.equal(e?.type === 'data' && e.data.toString(), 'still here');
});

test('truncated and oversized records are dropped without throwing, and the handshake still completes', () => {
  const p = makePair('truncated');
  p.client.start(0);
  const hello = p.client.pollTransmit()!;
  for (let n = 0; n < hello.length; n++) p.server.handle(hello.subarray(0, n), 0);
  const oversized = Buffer.concat([hello.subarray(0, 11), Buffer.from([0x48, 0x00]), Buffer.alloc(0x4800)]);
  p.server.handle(oversized, 0);
  const lengthLies = Buffer.from(hello);
  lengthLies.writeUInt16BE(0xffff, 11);
  p.server.handle(lengthLies, 0);
  assert.equal(p.server.pollTransmit(), undefined, 'nothing answered');
  assert.equal(p.server.drops.truncated, hello.length, 'every non-empty prefix, and the lying length, counted');
  assert.equal(p.server.drops.oversized, 1);
  p.server.handle(hello, 0);
  drive(p, { done: bothConnected(p) });
  assert.equal(p.client.state, 'connected');
});

test('unprotected alerts after connect are ignored (they could come from anyone on the path)', () => {
  const { pair, now } = connect('forged-alert');
  pair.client.handle(encodeRecord(ContentType.alert, 0xfefd, 0, 99, Buffer.from([2, 40])), now);
  pair.client.handle(encodeRecord(ContentType.alert, 0xfefd, 0, 100, Buffer.from([1, 0])), now);
  assert.equal(pair.client.state, 'connected');
  assert.equal(pair.client.drops.unprotected_alert, 2);
});

test('a ClientHello whose version is not DTLS 1.2 gets a protocol_version alert (RFC 6347 §4.1; issue #19)', () => {
  // 0x0303 is TLS 1.2 (not DTLS), 0xfeff DTLS 1.0 alone (too old), 0x1234 nothing at all.
  for (const version of [0x0303, 0xfeff, 0x1234]) {
    const { p, fromServer } = driveRewritten(`version-${version}`, 'client', HandshakeType.clientHello, (b) =>
      encodeClientHello({ ...parseClientHello(b), version }),
    );
    assert.equal(failure(p.serverEvents), 'ERR_DTLS_PROTOCOL_VERSION', `version 0x${version.toString(16)}`);
    assert.deepEqual(alertsIn(fromServer), [70], 'protocol_version (RFC 5246 §7.2.2)');
    assert.equal(failure(p.clientEvents), 'ERR_DTLS_PEER_ALERT');
  }
});

// Every suite (./suites.ts), with the certificate kind it needs: a wrong signature, a wrong
// Finished under valid record protection, and an on-path downgrade of the offered suite list.
for (const [i, suite] of CIPHER_SUITES.entries()) {
  const only = { cipherSuites: [suite.name] };

  test(`${suite.name}: ServerKeyExchange or CertificateVerify signed by another key fails with ERR_DTLS_BAD_SIGNATURE`, () => {
    const certs = certsOf(suite.auth);
    const ske = makePair(`ske-${suite.name}`, {
      client: { remoteFingerprint: certs.server.fingerprint, ...only },
      server: { certificate: { ...certs.server, privateKey: certs.other.privateKey } },
    });
    ske.client.start(0);
    drive(ske, { done: () => ske.server.state === 'failed' });
    assert.equal(failure(ske.clientEvents), 'ERR_DTLS_BAD_SIGNATURE');
    assert.equal(failure(ske.serverEvents), 'ERR_DTLS_PEER_ALERT');
    // The client certificate kind is independent of the suite: alternate it.
    const clientCerts = certsOf(i % 2 === 0 ? 'rsa' : 'ecdsa');
    const cv = makePair(`cv-${suite.name}`, {
      client: {
        certificate: { ...clientCerts.client, privateKey: clientCerts.other.privateKey },
        remoteFingerprint: certs.server.fingerprint,
        ...only,
      },
      server: { certificate: certs.server, remoteFingerprint: clientCerts.client.fingerprint },
    });
    cv.client.start(0);
    drive(cv, { done: () => cv.client.state === 'failed' });
    assert.equal(failure(cv.serverEvents), 'ERR_DTLS_BAD_SIGNATURE');
    assert.match(eventsOfType(cv.clientEvents, 'failed')[0].reason.message, /alert 51/);
  });

  test(`${suite.name}: a wrong Finished (validly encrypted) fails with ERR_DTLS_BAD_FINISHED, both roles`, () => {
    const certs = certsOf(suite.auth);
    const flipFinished = (flight: FlightEntry[]): FlightEntry[] =>
      flight.map((e) => (e.kind === 'handshake' && e.msgType === HandshakeType.finished ? { ...e, body: Buffer.alloc(12) } : e));
    const server = new DtlsEndpoint({
      role: 'server',
      certificate: certs.server,
      remoteFingerprint: certs.client.fingerprint,
      rng: seededRng(`bf-s-${suite.name}`),
    });
    const evilClient = new EvilPeer('client', certs.client, certs.server.fingerprint, flipFinished, [suite.name]);
    evilClient.start();
    pump(evilClient, server);
    assert.equal(failure(drainEvents(server)), 'ERR_DTLS_BAD_FINISHED');
    const client = new DtlsEndpoint({
      role: 'client',
      certificate: certs.client,
      remoteFingerprint: certs.server.fingerprint,
      rng: seededRng(`bf-c-${suite.name}`),
      ...only,
    });
    const evilServer = new EvilPeer('server', certs.server, certs.client.fingerprint, flipFinished, [suite.name]);
    client.start(0);
    pump(evilServer, client);
    assert.equal(evilServer.connected, true, 'the evil server itself accepted the client');
    assert.equal(failure(drainEvents(client)), 'ERR_DTLS_BAD_FINISHED');
  });

  test(`${suite.name}: an on-path rewrite of the offered suite list down to this suite never connects`, () => {
    const certs = certsOf(suite.auth);
    const { p } = driveRewritten(
      `downgrade-${suite.name}`,
      'client',
      HandshakeType.clientHello,
      (b) => encodeClientHello({ ...parseClientHello(b), cipherSuites: [suite.id] }),
      { client: { remoteFingerprint: certs.server.fingerprint }, server: { certificate: certs.server } },
    );
    // RFC 5246 §7.4.8: the client's CertificateVerify signs the transcript it saw, which holds the
    // real ClientHello, so the server finds the rewrite before any key is used (and RFC 7627's
    // session hash would make the Finished fail after it).
    assert.equal(failure(p.serverEvents), 'ERR_DTLS_BAD_SIGNATURE');
    assert.equal(failure(p.clientEvents), 'ERR_DTLS_PEER_ALERT');
    assert.equal(eventsOfType(p.serverEvents, 'connected').length, 0);
    assert.equal(eventsOfType(p.clientEvents, 'connected').length, 0);
  });
}
