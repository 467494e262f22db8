// Small units: CPU lists as the kernel prints them (pinning), flow-store keys (read back from a
// shared store, so parsing is total), the in-memory store's TTL and bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedCpus, cpuQuota, parseCpuList } from '../../src/relay/pin.ts';
import { flowKey, parseFlowKey } from '../../src/contracts/flow-record.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { MemoryFlowStore } from '../../src/relay/store/memory-store.ts';
import { v4 } from './helpers.ts';

test('CPU lists: ranges and singles; the allowed set comes from Cpus_allowed_list', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList('5'), [5]);
  assert.equal(parseCpuList('3-1'), undefined);
  assert.equal(parseCpuList('a'), undefined);
  assert.deepEqual(allowedCpus('Name:\tnode\nCpus_allowed:\t6\nCpus_allowed_list:\t1-2\n'), [1, 2]);
  assert.ok(allowedCpus('no such line').length >= 1);
});

test('cgroup CPU quota (v2 cpu.max, v1 cfs) rounds up to whole CPUs; unlimited is undefined', () => {
  const files =
    (m: Record<string, string>) =>
    (p: string): string | undefined =>
      m[p];
  assert.equal(cpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 2);
  assert.equal(cpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
  assert.equal(cpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), 1);
  assert.equal(
    cpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })),
    undefined,
  );
  assert.equal(cpuQuota(files({})), undefined);
});

test('flow keys round-trip for IPv4 and IPv6 and reject anything else', () => {
  const pub = v4('203.0.113.1', 3478);
  const client = { address: '2001:db8::7', port: 5000, family: 'IPv6' as const };
  const key = flowKey(pub, client);
  assert.equal(key, '203.0.113.1:3478|[2001:db8::7]:5000');
  assert.deepEqual(parseFlowKey(key), { public: pub, client });
  for (const bad of ['', '|', 'x|y', '1.2.3.4:1', '1.2.3.4:1|host:2', '1.2.3.4:99999|1.2.3.4:1'])
    assert.equal(parseFlowKey(bad), undefined, bad);
});

test('memory store: entries expire after the TTL and the entry count is bounded', async () => {
  const clock = new ManualClock(1000);
  const s = new MemoryFlowStore({ ttlMs: 100, maxEntries: 3, clock });
  for (let i = 1; i <= 5; i++) s.write({ public: v4('192.0.2.1', 1), client: v4('198.51.100.1', i), ufrag: `u${i}` });
  assert.equal(s.size, 3);
  assert.equal(await s.get(v4('192.0.2.1', 1), v4('198.51.100.1', 1)), undefined, 'oldest evicted');
  assert.equal(await s.get(v4('192.0.2.1', 1), v4('198.51.100.1', 5)), 'u5');
  clock.advance(100);
  assert.equal(await s.get(v4('192.0.2.1', 1), v4('198.51.100.1', 5)), undefined, 'expired');
  assert.equal(await s.loadAll(() => {}), 0);
  await s.close();
});
