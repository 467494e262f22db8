// `parley keys generate [--id N]`: prints a new routing-token keyring, one line, usable as-is as
// the value of PARLEY_KEYS and as the content of a --keys-file. Key rotation is in docs/keys.md.
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { systemRng } from '../common/system-rng.ts';
import { Keyring, MAX_KEY_ID } from '../core/token/index.ts';

const help = `Usage: parley keys generate [--id N]

Prints a new routing-token keyring with one fresh 256-bit key from the operating system's
CSPRNG, as one line: ID:BASE64. Use it as-is as the value of PARLEY_KEYS, or save it as a keys
file for --keys-file. Every relay and transceiver of a deployment needs the same keyring.
The output is a secret: store it like a password.

Options:
  --id N      key id, 0..${MAX_KEY_ID}, written in clear in every token (default 1).
              Give each new key an id not in use, e.g. the previous id + 1.
  -h, --help  this help

To rotate, prepend the new key to the existing keyring (the first key listed mints, every
key listed opens): see docs/keys.md.`;

function parse(argv: string[]): { id: number } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { id: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [sub, ...extra] = parsed.positionals;
  if (sub !== 'generate') throw new UsageError(sub === undefined ? 'missing subcommand: generate' : `unknown subcommand '${sub}'`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const idText = parsed.values.id ?? '1';
  if (!/^\d{1,3}$/.test(idText) || Number(idText) > MAX_KEY_ID)
    throw new UsageError(`--id must be an integer 0..${MAX_KEY_ID}, not '${idText}'`);
  return { id: Number(idText) };
}

export const command: Command = {
  summary: 'generate a routing-token keyring',
  help,
  async run(argv: string[]): Promise<number> {
    const { id } = parse(argv);
    process.stdout.write(`${Keyring.generate(systemRng, id).toString()}\n`);
    return 0;
  },
};
