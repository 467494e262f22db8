// Loads the routing-token keyring for a process: `--keys-file FILE` wins over the `PARLEY_KEYS`
// environment variable; both hold the same text (docs/keys.md). This is the I/O half of the
// keyring (it reads a file); parsing and all key handling are in src/core/token.
import { readFileSync } from 'node:fs';
import { Keyring, KeyringError } from '../core/token/index.ts';
import { ConfigError, ConfigErrorCode } from './config-error.ts';

export const KEYS_ENV = 'PARLEY_KEYS';
export const KEYS_FLAG = '--keys-file';

export interface KeyringSources {
  /** Path given with --keys-file, if any. */
  keysFile?: string;
  env: NodeJS.ProcessEnv;
}

const HOW_TO_MAKE =
  `make one with \`parley keys generate\` and pass it as ${KEYS_ENV}=… or save it to a file and pass ${KEYS_FLAG} FILE ` +
  '(every relay and transceiver of a deployment needs the same keys)';

function parseAs(setting: string, text: string): Keyring {
  try {
    return Keyring.parse(text);
  } catch (err) {
    // KeyringError messages name the key and the reason but never a secret.
    if (err instanceof KeyringError)
      throw new ConfigError(setting, `${err.message} [${err.code}]`, ConfigErrorCode.badKeys, { cause: err });
    throw err;
  }
}

/** The keyring from --keys-file or PARLEY_KEYS. Throws ConfigError when absent or invalid. */
export function loadKeyring(sources: KeyringSources): Keyring {
  if (sources.keysFile !== undefined) {
    const setting = `${KEYS_FLAG} ${sources.keysFile}`;
    let text: string;
    try {
      text = readFileSync(sources.keysFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new ConfigError(setting, `cannot read the keys file (${code})`, ConfigErrorCode.keysUnreadable);
    }
    return parseAs(setting, text);
  }
  const value = sources.env[KEYS_ENV];
  if (value !== undefined && value.trim() !== '') return parseAs(KEYS_ENV, value);
  throw new ConfigError(`${KEYS_FLAG} / ${KEYS_ENV}`, `no routing-token keys are configured; ${HOW_TO_MAKE}`, ConfigErrorCode.noKeys);
}
