// The transceiver's native token mint (native/src/token_native.c through
// src/transceiver/calls/native-token-sealer.ts) against TokenKey (node:crypto): the same ufrag and
// password for random keys (every key id, secrets of 32..64 bytes) and random plaintexts; mint()
// with it gives the token mint() gives without it for the same Rng, over IPv4 and IPv6
// destinations, ports and times, and that token opens (open(), derivePassword) to the destination;
// a sealer for another key is refused; hostile arguments throw TypeError/RangeError, never crash.
// The token tests (test/core/token/) hold mint() without a sealer to its vectors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TransportAddress } from '../../src/core/address.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, PLAINTEXT_LEN, TOKEN_VERSION, TokenKey, derivePassword, mint, open } from '../../src/core/token/index.ts';
import { defaultTokenSealer, loadTokenAddon, nativeTokenSealer } from '../../src/transceiver/calls/native-token-sealer.ts';
import type { TokenAddon } from '../../src/transceiver/calls/native-token-sealer.ts';

const loaded = loadTokenAddon();
const skip = loaded instanceof Error && process.env.CI !== 'true' ? 'the native token addon is not built' : false;

function addon(): TokenAddon {
  if (loaded instanceof Error) assert.fail(`CI=true but the native token addon is not usable: ${loaded.message}`);
  return loaded;
}

const iceChars = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

test('the same ufrag and password as TokenKey for 3 000 random keys and plaintexts', { skip }, () => {
  const rng = seededRng('native token sealer');
  for (let i = 0; i < 3000; i++) {
    const id = i % 256;
    const key = new TokenKey(id, rng.bytes(32 + (i % 33)));
    const plaintext = rng.bytes(PLAINTEXT_LEN);
    const expected = iceChars(key.seal(Buffer.from([TOKEN_VERSION, id]), plaintext));
    const sealed = nativeTokenSealer(addon(), key).seal(plaintext);
    assert.equal(sealed.ufrag, expected, `key ${id}, plaintext ${plaintext.toString('hex')}`);
    assert.equal(sealed.pwd, key.password(expected));
  }
});

test('mint() with the native sealer: the token mint() makes without it, and it opens to the destination', { skip }, () => {
  const addresses = ['10.1.2.3', '192.0.2.200', '255.255.255.255', '2001:db8:85a3::8a2e:370:7334', '::1', 'fe80::1'];
  const shape = seededRng('destinations');
  for (const keyId of [0, 1, 7, 255]) {
    const keyring = new Keyring([
      { id: keyId, secret: seededRng(`secret ${keyId}`).bytes(32) },
      { id: (keyId + 1) % 256, secret: seededRng('other').bytes(32) },
    ]);
    const sealer = nativeTokenSealer(addon(), keyring.minting);
    for (let i = 0; i < 300; i++) {
      const address = addresses[i % addresses.length];
      const destination: TransportAddress = {
        address,
        port: 1 + (shape.bytes(2).readUInt16BE(0) % 65535),
        family: address.includes(':') ? 'IPv6' : 'IPv4',
      };
      const now = 1_700_000_000_000 + shape.bytes(4).readUInt32BE(0);
      const withNode = mint(destination, keyring, now, seededRng(`nonce ${keyId} ${i}`));
      const withNative = mint(destination, keyring, now, seededRng(`nonce ${keyId} ${i}`), sealer);
      assert.deepEqual(withNative, withNode);
      const opened = open(withNative.ufrag, keyring, now);
      assert.ok(opened.ok, `${address}: ${JSON.stringify(opened)}`);
      assert.equal(opened.destination.port, destination.port);
      assert.equal(opened.destination.family, destination.family);
      assert.equal(opened.issuedAt, Math.floor(now / 1000) * 1000);
      assert.equal(derivePassword(withNative.ufrag, keyring), withNative.pwd);
    }
  }
});

test('mint() refuses a sealer of another key than the keyring mints with', { skip }, () => {
  const keyring = new Keyring([
    { id: 1, secret: seededRng('one').bytes(32) },
    { id: 2, secret: seededRng('two').bytes(32) },
  ]);
  const sealer = nativeTokenSealer(addon(), keyring.get(2)!);
  const v4: TransportAddress = { address: '10.0.0.1', port: 4000, family: 'IPv4' };
  assert.throws(() => mint(v4, keyring, 1_700_000_000_000, seededRng('n'), sealer), RangeError);
});

test('defaultTokenSealer: the native sealer of the minting key where the addon is built', { skip }, () => {
  const keyring = new Keyring([{ id: 9, secret: seededRng('nine').bytes(32) }]);
  const sealer = defaultTokenSealer(keyring);
  assert.ok(sealer);
  assert.equal(sealer.keyId, 9);
  const plaintext = seededRng('pt').bytes(PLAINTEXT_LEN);
  assert.equal(sealer.seal(plaintext).ufrag, iceChars(keyring.minting.seal(Buffer.from([TOKEN_VERSION, 9]), plaintext)));
});

test('hostile arguments: TypeError or RangeError, never a crash', { skip }, () => {
  const a = addon();
  const k = Buffer.alloc(32, 1);
  const key = a.sealKey(3, k, k, k);
  const pt = Buffer.alloc(PLAINTEXT_LEN);
  assert.equal(a.seal(key, pt).length, 88);
  const hostile: [() => unknown, typeof TypeError | typeof RangeError][] = [
    [() => a.sealKey(-1, k, k, k), RangeError],
    [() => a.sealKey(256, k, k, k), RangeError],
    [() => a.sealKey(3, Buffer.alloc(31), k, k), RangeError],
    [() => a.sealKey(3, k, k, Buffer.alloc(33)), RangeError],
    [() => a.sealKey('3' as unknown as number, k, k, k), TypeError],
    [() => a.sealKey(3, k, Array.from(k) as unknown as Buffer, k), TypeError],
    [() => (a.sealKey as (...x: unknown[]) => object)(3, k, k), TypeError],
    [() => a.seal(key, Buffer.alloc(PLAINTEXT_LEN - 1)), RangeError],
    [() => a.seal(key, Buffer.alloc(PLAINTEXT_LEN + 1)), RangeError],
    [() => a.seal(key, 'x'.repeat(PLAINTEXT_LEN) as unknown as Buffer), TypeError],
    [() => a.seal({}, pt), TypeError],
    [() => a.seal(undefined as unknown as object, pt), TypeError],
    [() => (a.seal as (...x: unknown[]) => string)(key), TypeError],
  ];
  for (const [f, type] of hostile) assert.throws(f, type);
});
