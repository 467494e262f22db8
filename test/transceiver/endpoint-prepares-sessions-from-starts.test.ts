// Issue #18: with DTLS client starts made ahead (MediaEndpointOptions.dtlsClientStarts), the media
// endpoint fills its pool when it binds, a session in the DTLS client role takes one when prepared
// (its ClientHello and X25519 share are the start's: the session's own X25519 makes none), a
// session in the server role takes none, a call finds the pool empty and makes its own, and the
// pool is filled again only once a call's setup is over (here: closed), never in the turns between
// an answer and the first check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { nodeX25519 } from '../../src/core/dtls/ecdhe.ts';
import type { X25519 } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Session } from '../../src/transceiver/calls/session.ts';
import { bindLoopbackEndpoint } from './helpers/media-io.ts';
import { sessionOptions } from './helpers/session-options.ts';

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('sessions in the DTLS client role take the starts the endpoint made ahead; the pool refills after a call ends', async () => {
  const made = { pool: 0, sessions: 0 };
  const counting = (who: keyof typeof made): X25519 => ({
    keyPair: (scalar) => {
      made[who]++;
      return nodeX25519.keyPair(scalar);
    },
  });
  const clock = new ManualClock(3_000);
  const endpoint = await bindLoopbackEndpoint(clock, { dtlsClientStarts: { rng: seededRng('pool'), x25519: counting('pool') } });
  await turns(4);
  assert.equal(made.pool, 2, 'two starts made after bind');
  const session = (id: string, dtlsRole: 'client' | 'server'): Session =>
    new Session({ ...sessionOptions(id, clock.now(), 10_000), dtlsRole, dtlsCrypto: { x25519: counting('sessions') } });
  const server = session('sserver', 'server');
  endpoint.add(server);
  await turns(3);
  const clients = [session('sc1', 'client'), session('sc2', 'client')];
  for (const s of clients) endpoint.add(s);
  await turns(3);
  assert.deepEqual(made, { pool: 2, sessions: 0 }, 'both clients took a start; the server none; no refill yet');
  for (const s of clients) assert.equal(s.preparable, false, 'prepared');
  const third = session('sc3', 'client');
  endpoint.add(third);
  await turns(3);
  assert.deepEqual(made, { pool: 2, sessions: 1 }, 'the pool was empty: the third call made its own share');
  endpoint.closeSession(clients[0], 'hangup');
  await turns(4);
  assert.deepEqual(made, { pool: 4, sessions: 1 }, 'a call ended: the pool is full again');
  for (const s of [server, clients[1], third]) endpoint.closeSession(s, 'hangup');
  await endpoint.close();
});
