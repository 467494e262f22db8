// Relay settings for the global relay (src/relay/config.ts): --location names the heartbeat's
// location (validated like the transceivers' location names), --heartbeat-prefix, and
// `--listen POD=LB`, which keys flow records by the translated address (docs/global-relay.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRelayConfig } from '../../src/relay/config.ts';
import { ConfigError } from '../../src/common/config-error.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { seededRng } from '../../src/core/rng.ts';

const env = { PARLEY_KEYS: Keyring.generate(seededRng('heartbeat-config')).toString() };

test('--location and --heartbeat-prefix have defaults and validate', () => {
  const d = resolveRelayConfig(['--workers', '1'], env);
  assert.equal(d.location, 'default');
  assert.equal(d.heartbeatPrefix, 'parley:heartbeat:relay:');
  assert.equal(resolveRelayConfig(['--workers', '1', '--location', 'eu-west'], env).location, 'eu-west');
  assert.equal(resolveRelayConfig(['--workers', '1'], { ...env, PARLEY_LOCATION: 'us' }).location, 'us');
  for (const bad of ['EU', 'eu:1', '1eu', ''])
    assert.throws(() => resolveRelayConfig(['--workers', '1', '--location', bad], env), ConfigError, bad);
});

test('--listen POD=LB keeps the bind address and records the translated one; ports must be explicit', () => {
  const c = resolveRelayConfig(['--workers', '1', '--listen', '10.1.2.3:3478=203.0.113.10:3478'], env);
  assert.equal(c.listen[0].address, '10.1.2.3');
  assert.equal(c.listen[0].advertised?.address, '203.0.113.10');
  const plain = resolveRelayConfig(['--workers', '1'], { ...env, PARLEY_LISTEN: '10.1.2.3:3478=203.0.113.10:3478,10.1.2.4:3478' });
  assert.equal(plain.listen.length, 2);
  assert.equal(plain.listen[1].advertised, undefined);
  assert.throws(() => resolveRelayConfig(['--workers', '1', '--listen', '10.1.2.3:0=203.0.113.10:3478'], env), /explicit ports/);
  assert.throws(() => resolveRelayConfig(['--workers', '1', '--listen', '10.1.2.3:3478=a=b'], env), ConfigError);
});
