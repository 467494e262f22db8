// Loud misconfiguration (issue #20 item 1): each relay drop reason that points at a setting is a
// warning in the relay's log naming the setting and the offending value — a token naming a
// transceiver outside --transceiver-cidrs, return traffic from outside them, tokens from many
// sources that do not open ("keys differ?"), and an unreachable Redis (--redis, also a /readyz
// line). Real relay
// processes, real sockets; each case sends from its own loopback IPs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, mint } from '../../src/core/token/index.ts';
import { mintFor, rtp, stunCheck, v4 } from './helpers.ts';
import type { RelayProcess } from './harness.ts';
import { TEST_DATAPATH, freePort, socketPool, startRelayProcess, withRelayState } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

type Line = Record<string, unknown>;
const warning = (r: RelayProcess, reason: string): Line | undefined =>
  r.logs.find((l) => l.level === 'warn' && l.reason === reason && typeof l.setting === 'string');

async function waitWarning(r: RelayProcess, reason: string): Promise<Line> {
  try {
    return await waitFor(() => warning(r, reason), 5000, `a warning for ${reason}`);
  } catch (err) {
    return withRelayState(r, err);
  }
}

test('a token naming a transceiver outside --transceiver-cidrs is a warning naming the setting and the address', async () => {
  const pool = socketPool();
  const relay = await startRelayProcess(['--workers', '1', '--transceiver-cidrs', '127.0.0.2/32']);
  try {
    const { ufrag, pwd } = mintFor(v4('127.0.0.3', 7000));
    (await pool.open('127.0.3.1')).send(stunCheck(ufrag, pwd), relay.publics[0]);
    const w = await waitWarning(relay, 'disallowed_destination');
    assert.equal(w.setting, '--transceiver-cidrs / PARLEY_TRANSCEIVER_CIDRS');
    assert.equal(w.value, '127.0.0.3');
    assert.match(String(w.msg), /--transceiver-cidrs/);
    assert.match(String(w.msg), /127\.0\.0\.3/);
  } finally {
    await relay.stop();
    await pool.closeAll();
  }
});

test('return traffic from outside --transceiver-cidrs is a warning naming the setting (and the source, js datapath)', async () => {
  const pool = socketPool();
  const relay = await startRelayProcess(['--workers', '1', '--transceiver-cidrs', '127.0.0.2/32']);
  try {
    const stranger = await pool.open('127.0.3.2');
    stranger.send(rtp(1), relay.internals[0]);
    const w = await waitWarning(relay, 'disallowed_source');
    assert.equal(w.setting, '--transceiver-cidrs / PARLEY_TRANSCEIVER_CIDRS');
    assert.match(String(w.msg), /--transceiver-cidrs/);
    // The C datapath counts these without the address; the js one names it.
    if (TEST_DATAPATH === 'js') assert.equal(w.value, '127.0.3.2');
  } finally {
    await relay.stop();
    await pool.closeAll();
  }
});

test('tokens of another keyring from many sources: "keys differ?" naming --keys-file / PARLEY_KEYS; one source alone is not warned about', async () => {
  const pool = socketPool();
  const relay = await startRelayProcess(['--workers', '1']);
  // Same key id, other secret: the transceivers were given another keyring.
  const other = Keyring.generate(seededRng('another-deployment'), 7);
  try {
    const tx = v4('127.0.0.1', 7000);
    let n = 0;
    const check = (): Buffer => {
      const t = mint(tx, other, Date.now(), seededRng(`probe-${n++}`));
      return stunCheck(t.ufrag, t.pwd);
    };
    const lone = await pool.open('127.0.4.1');
    for (let i = 0; i < 5; i++) lone.send(check(), relay.publics[0]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(warning(relay, 'token_bad_tag'), undefined, 'one client with a bad token is not a misconfiguration');
    for (const ip of ['127.0.4.2', '127.0.4.3']) (await pool.open(ip)).send(check(), relay.publics[0]);
    const w = await waitWarning(relay, 'token_bad_tag');
    assert.equal(w.setting, '--keys-file / PARLEY_KEYS');
    assert.match(String(w.msg), /keys differ\?/);
    assert.deepEqual(w.keyIds, [7]);
    assert.ok(Number(w.sources) >= 3);
  } finally {
    await relay.stop();
    await pool.closeAll();
  }
});

test('an unreachable Redis: media from unknown addresses is a warning naming --redis and the URL (without its password)', async () => {
  const pool = socketPool();
  const port = await freePort('tcp');
  const relay = await startRelayProcess(['--workers', '1', '--redis', `redis://user:secret@127.0.0.1:${port}`]);
  try {
    const c = await pool.open('127.0.5.1');
    // Media-shaped packets from an unknown address: the relay would ask the store, which is down.
    for (let i = 0; i < 3; i++) c.send(rtp(i), relay.publics[0]);
    const w = await waitWarning(relay, 'store_unavailable');
    assert.equal(w.setting, '--redis / PARLEY_REDIS');
    assert.equal(w.value, `redis://127.0.0.1:${port}`);
    assert.doesNotMatch(JSON.stringify(relay.logs), /secret/);
    // And a /readyz line: the relay still forwards the flows it holds, so it stays ready.
    const res = await fetch(`http://127.0.0.1:${relay.http.port}/readyz`);
    const body = await res.text();
    assert.equal(res.status, 200);
    assert.match(body, new RegExp(`warning: flow store unreachable \\(--redis / PARLEY_REDIS redis://127\\.0\\.0\\.1:${port}\\)`));
    assert.doesNotMatch(body, /secret/);
  } finally {
    await relay.stop();
    await pool.closeAll();
  }
});
