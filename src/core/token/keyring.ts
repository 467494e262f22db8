// The routing-token keyring: the keys relays and transceivers share, parsed from the one-line
// text format documented in docs/keys.md (`PARLEY_KEYS` value = keys-file content). The first
// key listed mints; every key listed opens. Not I/O: reading the file or the environment is
// src/common/keyring-config.ts.
import { KeyringError, KeyringErrorCode } from './errors.ts';
import type { Rng } from '../rng.ts';
import { MAX_KEY_ID, MIN_SECRET_BYTES, TokenKey } from './key.ts';

export interface KeyEntry {
  readonly id: number;
  readonly secret: Uint8Array;
}

const ENTRY = /^(\d{1,3}):([A-Za-z0-9+/]+={0,2})$/;

function decodeSecret(b64: string): Buffer | undefined {
  const bytes = Buffer.from(b64, 'base64');
  // Canonical only: Node's decoder ignores stray bits and bad padding, so re-encode and compare.
  const unpadded = (s: string): string => s.replace(/=+$/, '');
  if (unpadded(bytes.toString('base64')) !== unpadded(b64)) return undefined;
  if (b64.includes('=') && b64.length % 4 !== 0) return undefined;
  return bytes;
}

export class Keyring {
  /** The key that mints: the first one listed. */
  readonly minting: TokenKey;
  /** Every key that opens tokens, in the order listed (minting key first). */
  readonly keys: readonly TokenKey[];
  readonly #byId: (TokenKey | undefined)[] = new Array<TokenKey | undefined>(MAX_KEY_ID + 1);

  /** Builds a keyring from entries; the first entry mints. Throws KeyringError. */
  constructor(entries: readonly KeyEntry[]) {
    if (entries.length === 0) throw new KeyringError(KeyringErrorCode.empty, 'the keyring has no keys');
    const keys: TokenKey[] = [];
    for (const [i, e] of entries.entries()) {
      const where = `key #${i + 1} (id ${e.id})`;
      if (!Number.isInteger(e.id) || e.id < 0 || e.id > MAX_KEY_ID) {
        throw new KeyringError(KeyringErrorCode.badId, `key #${i + 1}: id ${e.id} is not an integer 0..${MAX_KEY_ID}`);
      }
      if (this.#byId[e.id]) throw new KeyringError(KeyringErrorCode.duplicateId, `${where}: id ${e.id} is listed twice`);
      if (e.secret.length < MIN_SECRET_BYTES) {
        throw new KeyringError(
          KeyringErrorCode.shortKey,
          `${where}: secret is ${e.secret.length} bytes; at least ${MIN_SECRET_BYTES} are required`,
        );
      }
      const key = new TokenKey(e.id, e.secret);
      this.#byId[e.id] = key;
      keys.push(key);
    }
    this.keys = keys;
    this.minting = keys[0];
  }

  /**
   * Parses `ID:BASE64[,ID:BASE64…]`. Entries may also be separated by whitespace or newlines;
   * lines starting with `#` are comments. Throws KeyringError saying which key and why.
   */
  static parse(text: string): Keyring {
    const body = text
      .replace(/^\uFEFF/, '') // a byte-order mark some editors put at the start of a file
      .split(/\r?\n/)
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    const parts = body.split(/[\s,]+/).filter((p) => p !== '');
    const entries: KeyEntry[] = parts.map((part, i) => {
      const m = ENTRY.exec(part);
      if (!m) {
        // Do not echo the entry: it is probably a secret with a typo.
        throw new KeyringError(KeyringErrorCode.syntax, `key #${i + 1}: expected ID:BASE64 (e.g. 1:<44 base64 chars>)`);
      }
      const id = Number(m[1]);
      if (id > MAX_KEY_ID) throw new KeyringError(KeyringErrorCode.badId, `key #${i + 1}: id ${id} is not 0..${MAX_KEY_ID}`);
      const secret = decodeSecret(m[2]);
      if (!secret) throw new KeyringError(KeyringErrorCode.badBase64, `key #${i + 1} (id ${id}): secret is not canonical base64`);
      return { id, secret };
    });
    return new Keyring(entries);
  }

  /** A fresh one-key keyring (32 random bytes). */
  static generate(rng: Rng, id = 1): Keyring {
    return new Keyring([{ id, secret: rng.bytes(MIN_SECRET_BYTES) }]);
  }

  /** The key with this id, if listed. */
  get(id: number): TokenKey | undefined {
    return this.#byId[id];
  }

  /** The text format, round-trips through parse. CONTAINS THE SECRETS: never log it. */
  toString(): string {
    return this.keys.map((k) => `${k.id}:${k.exportSecret().toString('base64')}`).join(',');
  }

  /** What logs and `console.log` show: ids only. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Keyring { minting: ${this.minting.id}, keys: [${this.keys.map((k) => k.id).join(', ')}] }`;
  }

  toJSON(): { minting: number; keys: number[] } {
    return { minting: this.minting.id, keys: this.keys.map((k) => k.id) };
  }
}
