// DtlsClientStart (issue #18): a client's ClientHello random and body and its X25519 key share made
// before the call, taken by DtlsEndpoint.prepare. A start is spent by its first taker, gives the
// ClientHello a plain client sends from the same random, is taken only for the suites and SRTP
// profiles it was made for, and a client that took one still refuses what the negative tests
// refuse (every suite: a wrong Finished, a downgraded offer) and connects with both key kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtlsClientStart } from '../../../src/core/dtls/index.ts';
import type { DtlsEndpoint, DtlsEvent } from '../../../src/core/dtls/index.ts';
import { nodeX25519 } from '../../../src/core/dtls/ecdhe.ts';
import type { X25519 } from '../../../src/core/dtls/ecdhe.ts';
import type { FlightEntry } from '../../../src/core/dtls/flight.ts';
import {
  encodeClientHello,
  encodeFragment,
  HandshakeType,
  parseClientHello,
  parseHandshakeFragments,
} from '../../../src/core/dtls/handshake.ts';
import { ContentType, encodeRecord, parseRecords } from '../../../src/core/dtls/record.ts';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { EvilPeer, pump } from './evil-peer.ts';
import { bothConnected, certsOf, drive, eventsOfType, makePair } from './harness.ts';
import type { Pair } from './harness.ts';

function transmits(ep: DtlsEndpoint): Buffer[] {
  const out: Buffer[] = [];
  for (let d = ep.pollTransmit(); d !== undefined; d = ep.pollTransmit()) out.push(d);
  return out;
}

/** The bodies of the epoch-0 handshake messages of `type` in datagrams. */
function messages(datagrams: Buffer[], type: number): Buffer[] {
  return datagrams
    .flatMap((d) => parseRecords(d))
    .filter((r) => r.epoch === 0 && r.type === ContentType.handshake)
    .flatMap((r) => parseHandshakeFragments(r.fragment))
    .filter((f) => f.msgType === type)
    .map((f) => f.body);
}

function failure(events: DtlsEvent[]): string | undefined {
  const f = eventsOfType(events, 'failed');
  return f.length === 1 ? f[0].reason.code : undefined;
}

/** Connects a pair whose client was prepared with `start`; returns the client's datagrams. */
function connectPrepared(p: Pair, start: DtlsClientStart | undefined, cookie = false): Buffer[] {
  const sent: Buffer[] = [];
  p.client.prepare(0, start);
  p.client.start(0);
  drive(p, {
    done: bothConnected(p),
    tap: (side, d) => {
      if (side === 'client') sent.push(d);
      return d;
    },
  });
  assert.equal(eventsOfType(p.clientEvents, 'connected').length, 1, `connected (cookie ${cookie})`);
  assert.equal(eventsOfType(p.serverEvents, 'connected').length, 1);
  return sent;
}

test('a client that takes a start sends the ClientHello a plain client sends from the same random', () => {
  const start = new DtlsClientStart({ rng: seededRng('same-random') }, 0);
  const taking = makePair('taking');
  taking.client.prepare(0, start);
  taking.client.start(0);
  const plain = makePair('plain', { client: { rng: seededRng('same-random') } });
  plain.client.start(0);
  const a = transmits(taking.client);
  assert.equal(a.length, 1);
  assert.deepEqual(a, transmits(plain.client), 'byte for byte: the start draws its random first, as start() does');
  assert.equal(start.spent, true);
});

test('a start is spent by its first taker: a second endpoint given it makes its own random and key share', () => {
  const start = new DtlsClientStart({ rng: seededRng('once') }, 0);
  const first = makePair('once-1');
  const second = makePair('once-2');
  const a = connectPrepared(first, start);
  const b = connectPrepared(second, start);
  const helloA = parseClientHello(messages(a, HandshakeType.clientHello)[0]);
  const helloB = parseClientHello(messages(b, HandshakeType.clientHello)[0]);
  assert.notDeepEqual(helloA.random, helloB.random);
  assert.notDeepEqual(messages(a, HandshakeType.clientKeyExchange)[0], messages(b, HandshakeType.clientKeyExchange)[0]);
  const keys = [first, second].map((p) => eventsOfType(p.clientEvents, 'connected')[0].keyingMaterial);
  assert.notDeepEqual(keys[0], keys[1]);
  assert.equal(start.take(CIPHER_SUITES, [1, 7]), undefined, 'nothing left to take');
});

test('starts made one after another differ in random, ClientHello and key share', () => {
  const rng = seededRng('per-call');
  const starts = [new DtlsClientStart({ rng }, 0), new DtlsClientStart({ rng }, 0)];
  const sent = starts.map((s, i) => connectPrepared(makePair(`per-call-${i}`), s));
  const hellos = sent.map((d) => messages(d, HandshakeType.clientHello)[0]);
  assert.notDeepEqual(hellos[0], hellos[1]);
  assert.notDeepEqual(parseClientHello(hellos[0]).random, parseClientHello(hellos[1]).random);
  const shares = sent.map((d) => messages(d, HandshakeType.clientKeyExchange)[0]);
  assert.equal(shares[0].length, 33, 'an X25519 share: its length byte and 32 bytes');
  assert.notDeepEqual(shares[0], shares[1]);
});

test("the start's key share answers the server's flight: the endpoint makes none of its own", () => {
  const made = { start: 0, endpoint: 0 };
  const counting = (who: keyof typeof made): X25519 => ({
    keyPair: (scalar) => {
      made[who]++;
      return nodeX25519.keyPair(scalar);
    },
  });
  const start = new DtlsClientStart({ rng: seededRng('share'), x25519: counting('start') }, 0);
  assert.deepEqual(made, { start: 1, endpoint: 0 });
  for (const cookie of [false, true]) {
    const p = makePair(`share-${cookie}`, { client: { x25519: counting('endpoint') }, server: { cookie } });
    connectPrepared(p, cookie ? new DtlsClientStart({ rng: seededRng('share-2'), x25519: counting('start') }, 0) : start, cookie);
  }
  assert.deepEqual(made, { start: 2, endpoint: 0 }, 'with and without a cookie round trip');
});

test('a start made for other suites or SRTP profiles is spent, not used: the endpoint makes its own hello', () => {
  const others = [
    { cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] },
    { srtpProfiles: ['SRTP_AEAD_AES_128_GCM' as const] },
    { srtpProfiles: ['SRTP_AEAD_AES_128_GCM' as const, 'SRTP_AES128_CM_HMAC_SHA1_80' as const] },
  ];
  for (const [i, over] of others.entries()) {
    const start = new DtlsClientStart({ rng: seededRng(`made-for-all-${i}`) }, 0);
    const taking = makePair(`other-${i}`, { client: over });
    taking.client.prepare(0, start);
    taking.client.start(0);
    const plain = makePair(`other-${i}`, { client: over });
    plain.client.start(0);
    assert.deepEqual(transmits(taking.client), transmits(plain.client), `its own random and offer (${JSON.stringify(over)})`);
    assert.equal(start.spent, true);
  }
  // And a start made for that one suite is taken by an endpoint that offers only it.
  const only = { cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] };
  const start = new DtlsClientStart({ rng: seededRng('made-for-one'), ...only }, 0);
  const taking = makePair('one', { client: only });
  taking.client.prepare(0, start);
  taking.client.start(0);
  const plain = makePair('one', { client: { ...only, rng: seededRng('made-for-one') } });
  plain.client.start(0);
  assert.deepEqual(transmits(taking.client), transmits(plain.client));
});

test('a server leaves a start unspent; a dropped start gives nothing', () => {
  const start = new DtlsClientStart({ rng: seededRng('server') }, 0);
  const p = makePair('server-role');
  p.server.prepare(0, start);
  assert.equal(start.spent, false);
  start.drop();
  start.drop();
  assert.equal(start.spent, true);
  assert.equal(start.take(CIPHER_SUITES, [1, 7]), undefined);
  // A dropped start is like none: the client makes its own.
  const taking = makePair('dropped');
  taking.client.prepare(0, start);
  taking.client.start(0);
  const plain = makePair('dropped');
  plain.client.start(0);
  assert.deepEqual(transmits(taking.client), transmits(plain.client));
});

// Every suite, with the certificate kind it needs, for a client that took a start made for it.
for (const suite of CIPHER_SUITES) {
  const only = { cipherSuites: [suite.name] };
  const made = (seed: string): DtlsClientStart => new DtlsClientStart({ rng: seededRng(seed), ...only }, 0);

  test(`${suite.name}: a client with a start connects, and fails a wrong Finished with ERR_DTLS_BAD_FINISHED`, () => {
    const certs = certsOf(suite.auth);
    const honest = makePair(`start-ok-${suite.name}`, {
      client: { certificate: certs.client, remoteFingerprint: certs.server.fingerprint, ...only },
      server: { certificate: certs.server, remoteFingerprint: certs.client.fingerprint },
    });
    const start = made(`start-ok-${suite.name}`);
    connectPrepared(honest, start);
    assert.equal(start.spent, true);
    assert.equal(eventsOfType(honest.clientEvents, 'connected')[0].cipherSuite, suite.name);

    const flipFinished = (flight: FlightEntry[]): FlightEntry[] =>
      flight.map((e) => (e.kind === 'handshake' && e.msgType === HandshakeType.finished ? { ...e, body: Buffer.alloc(12) } : e));
    const { client } = makePair(`start-bf-${suite.name}`, {
      client: { certificate: certs.client, remoteFingerprint: certs.server.fingerprint, ...only },
    });
    const evilServer = new EvilPeer('server', certs.server, certs.client.fingerprint, flipFinished, [suite.name]);
    const badStart = made(`start-bf-${suite.name}`);
    client.prepare(0, badStart);
    client.start(0);
    pump(evilServer, client);
    assert.equal(badStart.spent, true);
    assert.equal(evilServer.connected, true, 'the evil server itself accepted the client');
    const events: DtlsEvent[] = [];
    for (let e = client.pollEvent(); e; e = client.pollEvent()) events.push(e);
    assert.equal(failure(events), 'ERR_DTLS_BAD_FINISHED');
  });

  test(`${suite.name}: an on-path rewrite of a prepared client's suite list never connects`, () => {
    const certs = certsOf(suite.auth);
    const p = makePair(`start-downgrade-${suite.name}`, {
      client: { remoteFingerprint: certs.server.fingerprint },
      server: { certificate: certs.server },
    });
    p.client.prepare(0, new DtlsClientStart({ rng: seededRng(`start-downgrade-${suite.name}`) }, 0));
    p.client.start(0);
    const downgrade = (d: Buffer): Buffer =>
      Buffer.concat(
        parseRecords(d).map((r) => {
          if (r.epoch !== 0 || r.type !== ContentType.handshake) return encodeRecord(r.type, r.version, r.epoch, r.seq, r.fragment);
          const frags = parseHandshakeFragments(r.fragment).map((f) => {
            if (f.msgType !== HandshakeType.clientHello) {
              const whole = Buffer.concat([Buffer.alloc(f.fragmentOffset), f.body]);
              return encodeFragment(f.msgType, f.messageSeq, whole, f.fragmentOffset, f.body.length);
            }
            const body = encodeClientHello({ ...parseClientHello(f.body), cipherSuites: [suite.id] });
            return encodeFragment(f.msgType, f.messageSeq, body, 0, body.length);
          });
          return encodeRecord(r.type, r.version, r.epoch, r.seq, Buffer.concat(frags));
        }),
      );
    drive(p, {
      done: () => p.server.state === 'failed' && p.client.state === 'failed',
      tap: (side, d) => (side === 'client' ? downgrade(d) : d),
    });
    // The client's CertificateVerify signs the ClientHello it sent (RFC 5246 §7.4.8).
    assert.equal(failure(p.serverEvents), 'ERR_DTLS_BAD_SIGNATURE');
    assert.equal(eventsOfType(p.serverEvents, 'connected').length, 0);
    assert.equal(eventsOfType(p.clientEvents, 'connected').length, 0);
  });
}
