// ICE-TCP through a real `parley relay --listen-tcp` process (the native suite reruns it with
// --datapath native: the TCP side is the same, the UDP datapath beside it differs): a client's
// connection whose first frame verifies reaches the transceiver with a version-2 header and gets
// its replies framed back; 2 000 connections from one address are held to the per-IP cap, each
// refusal counted in /metrics, and the bound call keeps working through it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { frameRfc4571 } from '../../src/core/framing/rfc4571.ts';
import { RELAY_HEADER_LENGTH, decodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { DEFAULT_TCP_LIMITS } from '../../src/relay/tcp/tcp-relay.ts';
import { ConfigError } from '../../src/common/config-error.ts';
import { resolveRelayConfig } from '../../src/relay/config.ts';
import { KEYS_TEXT, mintFor, rtp, stunCheck } from './helpers.ts';
import { connectTcp, openSocket, scrape, startRelayProcess } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

test('a TCP call through the relay process; 2 000 connections from one address are capped and counted; the call keeps working', async (t) => {
  const tx = await openSocket();
  const relay = await startRelayProcess(['--workers', '1', '--listen-tcp', '127.0.0.1:0']);
  const sockets: net.Socket[] = [];
  try {
    assert.equal(relay.tcp.length, 1, 'the relay says where it listens for TCP');
    const to = relay.tcp[0];
    const client = await connectTcp(to);
    const { sock: call, frames } = client;
    sockets.push(call);
    const { ufrag, pwd } = mintFor(tx.address);
    call.write(frameRfc4571(stunCheck(ufrag, pwd)));
    const check = await tx.next(5000);
    assert.equal(decodeRelayHeader(check.msg)?.transport, 'tcp');
    const header = check.msg.subarray(0, RELAY_HEADER_LENGTH);

    // 2 000 connections from the same address, none of which sends anything.
    const flood: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = net.connect({ host: to.address, port: to.port });
      sockets.push(s);
      s.on('error', () => {});
      flood.push(new Promise<void>((r) => s.once('close', () => r()).once('connect', () => r())));
    }
    await Promise.all(flood);
    const m = await waitFor(
      async () => {
        const x = await scrape(relay.http);
        // Most of the flood, not all: on a loaded machine some SYNs wait for the kernel's retries.
        return (x.get('parley_relay_tcp_closed_total{reason="too_many_from_ip"}') ?? 0) >= 1500 ? x : undefined;
      },
      30_000,
      'the per-IP cap counted',
    );
    const held = m.get('parley_relay_tcp_connections') ?? NaN;
    t.diagnostic(
      `2 000 connections from one address: ${held} held, ${m.get('parley_relay_tcp_closed_total{reason="too_many_from_ip"}')} refused`,
    );
    assert.ok(held <= DEFAULT_TCP_LIMITS.maxPerIp, `held ${held}`);

    // The call still works both ways.
    call.write(frameRfc4571(rtp(7)));
    const media = await tx.next(5000, (x) => x[RELAY_HEADER_LENGTH] === 0x80);
    assert.equal(media.msg.readUInt16BE(RELAY_HEADER_LENGTH + 2), 7);
    tx.send(Buffer.concat([header, rtp(8)]), check.from);
    await waitFor(() => frames.some((f) => f.equals(rtp(8))), 5000, 'the reply framed back');
    const after = await scrape(relay.http);
    assert.ok((after.get('parley_relay_tcp_accepted_total') ?? 0) >= 1);
  } finally {
    for (const s of sockets) s.destroy();
    await tx.close();
    assert.equal(await relay.stop(), 0);
  }
});

test('--listen-tcp: a wildcard or a repeated address exits naming the setting; none by default', () => {
  const resolve = (...a: string[]): unknown => resolveRelayConfig(['--listen', '127.0.0.1:3478', ...a], { PARLEY_KEYS: KEYS_TEXT });
  assert.throws(
    () => resolve('--listen-tcp', '0.0.0.0:443'),
    (e: unknown) => e instanceof ConfigError && /--listen-tcp.*wildcard/.test(e.message),
  );
  assert.throws(
    () => resolve('--listen-tcp', '127.0.0.1:443', '--listen-tcp', '127.0.0.1:443'),
    (e: unknown) => e instanceof ConfigError && /--listen-tcp.*listed twice/.test(e.message),
  );
  assert.deepEqual(resolveRelayConfig([], { PARLEY_KEYS: KEYS_TEXT }).listenTcp, []);
  assert.deepEqual(
    resolveRelayConfig([], { PARLEY_KEYS: KEYS_TEXT, PARLEY_LISTEN_TCP: '127.0.0.1:443,[::1]:443' }).listenTcp.map((a) => a.port),
    [443, 443],
  );
});
