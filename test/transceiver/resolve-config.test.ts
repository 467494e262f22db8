// resolveTransceiverConfig: flags + environment → a checked config, or a ConfigError naming the
// setting (the CLI exits 2 with it) — the transceiver's counterpart of resolveRelayConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/common/config-error.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import { resolveTransceiverConfig } from '../../src/transceiver/config.ts';

// --no-auth: resolving without API keys is refused (api-keys-required.test.ts); these tests are about other settings.
const env = { PARLEY_KEYS: Keyring.generate(seededRng('resolve-config')).toString(), PARLEY_NO_AUTH: 'on' };

function refusal(argv: string[], e: NodeJS.ProcessEnv = env): ConfigError {
  try {
    resolveTransceiverConfig(argv, e, defaultHandlers());
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`accepted ${argv.join(' ')}`);
}

test('defaults resolve: keyring loaded, echo handler, unnamed relays, a media socket and SRTP transform chosen', () => {
  const cfg = resolveTransceiverConfig([], env, defaultHandlers());
  assert.equal(cfg.handler, 'echo');
  assert.equal(cfg.namedRelays, false);
  assert.equal(cfg.keyring.keys.length, 1);
  assert.ok(cfg.mediaIo === 'native' || cfg.mediaIo === 'dgram');
  assert.ok(cfg.srtp === 'native' || cfg.srtp === 'ts');
  assert.equal(cfg.srtp === 'native', cfg.srtpTransform !== undefined);
  assert.equal('keysFile' in cfg, false, 'the keys file path is consumed, the keyring is what the process uses');
});

test('an unknown --handler names the setting and the known handlers', () => {
  const e = refusal(['--handler', 'robot']);
  assert.match(e.message, /--handler \/ PARLEY_HANDLER/);
  assert.match(e.message, /known: echo, tone/);
  assert.match(refusal([], { ...env, PARLEY_HANDLER: 'robot' }).message, /PARLEY_HANDLER/);
});

test('--realtime-url makes realtime the default handler, takes the key from PARLEY_REALTIME_API_KEY, and must be ws(s)', () => {
  const cfg = resolveTransceiverConfig(
    ['--realtime-url', 'wss://models.example/v1/realtime', '--realtime-model', 'm1'],
    { ...env, PARLEY_REALTIME_API_KEY: 'sk-x' },
    defaultHandlers(),
  );
  assert.equal(cfg.handler, 'realtime');
  assert.equal(cfg.realtimeUrl, 'wss://models.example/v1/realtime');
  assert.equal(cfg.realtimeModel, 'm1');
  assert.equal(cfg.realtimeApiKey, 'sk-x');
  const explicit = resolveTransceiverConfig(['--realtime-url', 'ws://127.0.0.1:1/', '--handler', 'echo'], env, defaultHandlers());
  assert.equal(explicit.handler, 'echo', '?handler=realtime stays available, echo is the default asked for');
  assert.match(refusal(['--realtime-url', 'https://models.example/']).message, /--realtime-url \/ PARLEY_REALTIME_URL/);
  assert.match(refusal(['--handler', 'realtime']).message, /known: echo, tone\)/, 'no realtime handler without its URL');
});

test('--region needs named relay locations', () => {
  assert.match(refusal(['--region', 'eu']).message, /--region \/ PARLEY_REGION/);
  const cfg = resolveTransceiverConfig(['--relays', 'eu=127.0.0.1:3478;us=127.0.0.1:3488', '--region', 'eu'], env, defaultHandlers());
  assert.equal(cfg.namedRelays, true);
  assert.equal(cfg.region, 'eu');
});

test('--relays-tcp takes the --relays location names (or is unnamed with it); none by default', () => {
  assert.equal(resolveTransceiverConfig([], env, defaultHandlers()).relaysTcp, undefined);
  const named = ['--relays', 'eu=127.0.0.1:3478;us=127.0.0.1:3488'];
  assert.equal(
    resolveTransceiverConfig([...named, '--relays-tcp', 'us=127.0.0.1:443'], env, defaultHandlers()).relaysTcp?.locations[0].name,
    'us',
  );
  assert.match(
    refusal([...named, '--relays-tcp', 'mars=127.0.0.1:443']).message,
    /--relays-tcp \/ PARLEY_RELAYS_TCP.*not one of the --relays locations/,
  );
  assert.match(refusal([...named, '--relays-tcp', '127.0.0.1:443']).message, /--relays-tcp/);
  assert.match(refusal(['--relays-tcp', 'eu=127.0.0.1:443']).message, /unnamed list/);
  assert.match(refusal(['--relays-tcp', '0.0.0.0:443']).message, /--relays-tcp/);
});

test('no keyring is a configuration error', () => {
  assert.throws(() => resolveTransceiverConfig([], {}, defaultHandlers()), ConfigError);
});

test('--codec-threads: 0 by default (the event loop), 1..64 accepted, anything else refused naming the setting', () => {
  assert.equal(resolveTransceiverConfig([], env, defaultHandlers()).codecThreads, 0);
  assert.equal(resolveTransceiverConfig(['--codec-threads', '2'], env, defaultHandlers()).codecThreads, 2);
  assert.equal(resolveTransceiverConfig([], { ...env, PARLEY_CODEC_THREADS: '3' }, defaultHandlers()).codecThreads, 3);
  for (const bad of ['-1', '65', 'two', '1.5'])
    assert.match(refusal(['--codec-threads', bad]).message, /--codec-threads \/ PARLEY_CODEC_THREADS/);
  assert.match(refusal([], { ...env, PARLEY_CODEC_THREADS: 'x' }).message, /PARLEY_CODEC_THREADS/);
});
