// cli-config: precedence flag > env > default, repeatable flags, errors that name the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parsers, renderSettingsHelp, renderSettingsMarkdown, setting } from '../../src/common/cli-config.ts';
import { ConfigError } from '../../src/common/config-error.ts';

const spec = {
  listen: setting({
    flag: 'listen',
    env: 'PARLEY_LISTEN',
    help: 'public',
    default: [{ address: '127.0.0.1', port: 3478, family: 'IPv4' as const }],
    parse: parsers.addressList,
    repeatable: true,
  }),
  workers: setting({ flag: 'workers', env: 'PARLEY_WORKERS', help: 'n', default: 2, parse: parsers.int(1, 64) }),
  pin: setting({
    flag: 'pin',
    env: 'PARLEY_PIN',
    help: 'pin',
    default: 'on' as 'on' | 'off',
    parse: parsers.oneOf(['on', 'off'] as const),
  }),
};

test('defaults apply when neither flag nor env is given', () => {
  const c = loadConfig(spec, [], {});
  assert.equal(c.workers, 2);
  assert.equal(c.listen[0].port, 3478);
  assert.equal(c.pin, 'on');
});

test('flag wins over env, env over default; repeatable flags concatenate', () => {
  const c = loadConfig(spec, ['--listen', '127.0.0.1:1', '--listen=[::1]:2', '--workers', '3'], {
    PARLEY_WORKERS: '5',
    PARLEY_LISTEN: '1.2.3.4:9',
    PARLEY_PIN: 'off',
  });
  assert.deepEqual(
    c.listen.map((a) => a.port),
    [1, 2],
  );
  assert.equal(c.listen[1].family, 'IPv6');
  assert.equal(c.workers, 3);
  assert.equal(c.pin, 'off');
  assert.deepEqual(
    loadConfig(spec, [], { PARLEY_LISTEN: '1.2.3.4:9,5.6.7.8:10' }).listen.map((a) => a.port),
    [9, 10],
  );
});

test('bad values throw ConfigError naming flag, env and reason', () => {
  assert.throws(
    () => loadConfig(spec, ['--workers', '0'], {}),
    (e: unknown) => e instanceof ConfigError && /--workers \/ PARLEY_WORKERS/.test(e.message) && /outside 1..64/.test(e.message),
  );
  assert.throws(
    () => loadConfig(spec, [], { PARLEY_LISTEN: 'localhost:1' }),
    (e: unknown) => e instanceof ConfigError && /PARLEY_LISTEN/.test(e.message) && /literal IP/.test(e.message),
  );
  assert.throws(
    () => loadConfig(spec, ['--nope', '1'], {}),
    (e: unknown) => e instanceof ConfigError && /--nope/.test(e.message),
  );
  assert.throws(() => loadConfig(spec, ['--workers'], {}), /needs a value/);
  assert.throws(() => loadConfig(spec, ['--workers', '1', '--workers', '2'], {}), /more than once/);
});

test('each kind of bad command line has its own ERR_CONFIG_… code', () => {
  const code = (argv: string[], env: NodeJS.ProcessEnv = {}): string | undefined => {
    try {
      loadConfig(spec, argv, env);
    } catch (err) {
      return err instanceof ConfigError ? err.code : undefined;
    }
    return undefined;
  };
  assert.equal(code(['--workers', '0']), 'ERR_CONFIG_INVALID');
  assert.equal(code([], { PARLEY_LISTEN: 'localhost:1' }), 'ERR_CONFIG_INVALID');
  assert.equal(code(['--nope', '1']), 'ERR_CONFIG_UNKNOWN_OPTION');
  assert.equal(code(['--workers']), 'ERR_CONFIG_MISSING_VALUE');
  assert.equal(code(['--workers', '1', '--workers', '2']), 'ERR_CONFIG_REPEATED');
  assert.equal(code(['workers']), 'ERR_CONFIG_UNEXPECTED_ARGUMENT');
});

test('help and markdown list every setting with env and default', () => {
  const h = renderSettingsHelp(spec);
  assert.match(h, /--listen VALUE …\s+PARLEY_LISTEN/);
  assert.match(h, /default: 127\.0\.0\.1:3478/);
  assert.match(renderSettingsMarkdown(spec), /\| `--workers VALUE` \| `PARLEY_WORKERS` \| `2` \|/);
});

test('a switch given alone stands for its bare value and takes no argument; =VALUE and the env variable still work', () => {
  const sw = {
    open: setting({
      flag: 'open',
      env: 'PARLEY_OPEN',
      help: 'open',
      default: 'off',
      bare: 'on',
      parse: parsers.oneOf(['on', 'off'] as const),
    }),
    workers: spec.workers,
  };
  assert.deepEqual(loadConfig(sw, ['--open', '--workers', '3'], {}), { open: 'on', workers: 3 });
  assert.equal(loadConfig(sw, ['--open=off'], { PARLEY_OPEN: 'on' }).open, 'off');
  assert.equal(loadConfig(sw, [], { PARLEY_OPEN: 'on' }).open, 'on');
  assert.throws(() => loadConfig(sw, ['--open=maybe'], {}), ConfigError);
  assert.match(renderSettingsHelp(sw), /^ {2}--open {2}/m, 'help shows the switch without a value');
  assert.match(renderSettingsMarkdown(sw), /\| `--open` \|/);
});
