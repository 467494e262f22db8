// metrics rendering (Prometheus text 0.0.4), JSON-lines logging, and the ops HTTP endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { createLogger } from '../../src/common/log.ts';
import { startOpsHttp } from '../../src/common/ops-http.ts';

test('counters, gauges and histograms render in Prometheus text format', () => {
  const reg = new MetricsRegistry();
  const c = reg.counter({ name: 'x_drops_total', help: 'drops', labelNames: ['reason'] });
  c.labels('bad "token"').inc(2);
  const g = reg.gauge({ name: 'x_flows', help: 'flows' });
  g.set(7);
  const h = reg.histogram({ name: 'x_latency_seconds', help: 'lat', buckets: [0.001, 0.01] });
  h.observe(0.0005);
  h.observe(0.005);
  h.observe(1);
  let collected = 0;
  reg.onCollect(() => collected++);
  const text = reg.render();
  assert.equal(collected, 1);
  assert.match(text, /# TYPE x_drops_total counter\nx_drops_total\{reason="bad \\"token\\""\} 2\n/);
  assert.match(text, /x_flows 7\n/);
  assert.match(
    text,
    /x_latency_seconds_bucket\{le="0.001"\} 1\nx_latency_seconds_bucket\{le="0.01"\} 2\nx_latency_seconds_bucket\{le="\+Inf"\} 3\n/,
  );
  assert.match(text, /x_latency_seconds_count 3\n/);
  assert.throws(() => reg.counter({ name: 'x_flows', help: 'dup' }), /already registered/);
});

test('definitions() lists every metric with its type and label names, including those with no series yet', () => {
  const reg = new MetricsRegistry();
  reg.counter({ name: 'a_total', help: 'a', labelNames: ['reason'] });
  reg.histogram({ name: 'b_seconds', help: 'b', buckets: [1] }).observe(0.5);
  assert.deepEqual(reg.definitions(), [
    { name: 'a_total', type: 'counter', labelNames: ['reason'] },
    { name: 'b_seconds', type: 'histogram', labelNames: [] },
  ]);
  assert.doesNotMatch(reg.render(), /^a_total/m, 'a_total has no series, yet it is defined');
});

test('logger writes one JSON object per line, respects the level, child adds fields', () => {
  const lines: string[] = [];
  const log = createLogger({ component: 't', level: 'info', sink: (l) => lines.push(l) });
  log.debug('hidden');
  log.child({ worker: 1 }).warn('hello', { err: new Error('boom') });
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]);
  assert.equal(rec.level, 'warn');
  assert.equal(rec.component, 't');
  assert.equal(rec.worker, 1);
  assert.equal(rec.msg, 'hello');
  assert.equal(rec.err.message, 'boom');
});

test('ops http serves /metrics, /healthz, /readyz and closes idempotently', async () => {
  const reg = new MetricsRegistry();
  reg.counter({ name: 'y_total', help: 'y' }).inc();
  let ready = false;
  const ops = await startOpsHttp({ host: '127.0.0.1', port: 0, metrics: reg, ready: () => ready });
  try {
    const base = `http://127.0.0.1:${ops.address.port}`;
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /version=0.0.4/);
    assert.match(await m.text(), /y_total 1/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await ops.close();
    await ops.close();
  }
});

test('ops http POST: bodies past maxBytes get 413 and requests past the per-address rate 429, each told to `refused`; the rest reach the handler', async () => {
  const bodies: string[] = [];
  const refused: number[] = [];
  const ops = await startOpsHttp({
    host: '127.0.0.1',
    port: 0,
    metrics: new MetricsRegistry(),
    ready: () => true,
    post: {
      path: '/post',
      maxBytes: 16,
      // Ten at once, then one a minute: the test cannot refill the bucket by being slow.
      perIp: { ratePerSecond: 1 / 60, burst: 10 },
      handle: (body) => {
        bodies.push(body);
        return 204;
      },
      refused: (status) => refused.push(status),
    },
  });
  try {
    const url = `http://127.0.0.1:${ops.address.port}/post`;
    assert.equal((await fetch(url, { method: 'POST', body: 'x'.repeat(17) })).status, 413);
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await fetch(url, { method: 'POST', body: `n${i}` })).status);
    // The 413 took one of the ten: nine reach the handler, six are refused.
    assert.deepEqual(statuses, [...Array(9).fill(204), ...Array(6).fill(429)]);
    assert.deepEqual(
      bodies,
      Array.from({ length: 9 }, (_, i) => `n${i}`),
    );
    assert.deepEqual(refused, [413, ...Array(6).fill(429)]);
  } finally {
    await ops.close();
  }
});
