// `parley token mint|inspect`: make routing tokens (server ICE ufrags) and explain them, for
// operators and benchmarks. Keys come from --keys-file or PARLEY_KEYS (src/common/keyring-config.ts).
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { loadKeyring } from '../common/keyring-config.ts';
import { systemRng } from '../common/system-rng.ts';
import { formatAddress, parseAddress } from '../core/address.ts';
import { DEFAULT_TOKEN_LIFETIME_MS, mint, open } from '../core/token/index.ts';

const MAX_COUNT = 1_000_000;
const DEFAULT_LIFETIME_S = DEFAULT_TOKEN_LIFETIME_MS / 1000;

const help = `Usage:
  parley token mint --to HOST:PORT [--count N] [--keys-file FILE]
  parley token inspect UFRAG [--lifetime SECONDS] [--keys-file FILE]

mint     Prints one JSON object per line: {"ufrag","pwd","to","keyId"}. The ufrag is the routing
         token a transceiver puts in its SDP answer (a=ice-ufrag); pwd is the ICE password the
         relay derives from it (a=ice-pwd). Minted with the first key of the keyring.
inspect  Opens a ufrag and prints JSON: {"valid":true,"to","keyId","issuedAt","expiresAt"}
         (times in ISO 8601), or {"valid":false,"reason"} with exit status 1. Reasons:
         malformed, unsupported_version, unknown_key, bad_tag, not_yet_valid, expired.

Options:
  --to HOST:PORT      mint: the transceiver media address the token routes to. A literal IP:
                      1.2.3.4:5000 or [2001:db8::1]:5000 (no host names). Required.
  --count N           mint: how many tokens, 1..${MAX_COUNT} (default 1). Each has a fresh nonce.
  --lifetime SECONDS  inspect: token lifetime to check expiry against (default ${DEFAULT_LIFETIME_S}, 24 h).
  --keys-file FILE    the keyring file; wins over PARLEY_KEYS.
  -h, --help          this help

Environment:
  PARLEY_KEYS         the keyring, as printed by \`parley keys generate\` (when no --keys-file).

Exit status: 0 ok, 1 the token was rejected, 2 usage or configuration error (e.g. no keys).`;

const options = {
  to: { type: 'string' },
  count: { type: 'string' },
  lifetime: { type: 'string' },
  'keys-file': { type: 'string' },
} as const;

function parse(argv: string[]): ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function positiveInt(flag: string, text: string, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw new UsageError(`${flag} must be an integer 1..${max}, not '${text}'`);
  return Number(text);
}

async function runMint(values: ReturnType<typeof parse>['values'], extra: string[]): Promise<number> {
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (values.lifetime !== undefined) throw new UsageError('--lifetime applies to inspect, not mint');
  if (values.to === undefined) throw new UsageError('mint needs --to HOST:PORT');
  const to = parseAddress(values.to);
  if (!to || to.port === 0) {
    throw new UsageError(`--to must be a literal IP and a port 1..65535, like 10.0.0.5:40000 or [2001:db8::5]:40000, not '${values.to}'`);
  }
  const count = values.count === undefined ? 1 : positiveInt('--count', values.count, MAX_COUNT);
  const keyring = loadKeyring({ keysFile: values['keys-file'], env: process.env });
  const toText = formatAddress(to);
  const now = Date.now();
  // Written in chunks, waiting for the pipe to drain, so a million tokens do not pile up in
  // memory; a reader that goes away (`| head`) ends the loop quietly instead of an EPIPE crash.
  let closed = false;
  const onError = (): void => {
    closed = true;
  };
  process.stdout.on('error', onError);
  try {
    for (let done = 0; done < count && !closed;) {
      const lines: string[] = [];
      for (const end = Math.min(count, done + 10_000); done < end; done++) {
        const t = mint(to, keyring, now, systemRng);
        lines.push(`${JSON.stringify({ ufrag: t.ufrag, pwd: t.pwd, to: toText, keyId: t.keyId })}\n`);
      }
      if (!process.stdout.write(lines.join(''))) await once(process.stdout, 'drain').catch(onError);
    }
  } finally {
    if (!closed) process.stdout.off('error', onError);
  }
  return 0;
}

function runInspect(values: ReturnType<typeof parse>['values'], extra: string[]): number {
  if (values.to !== undefined || values.count !== undefined) throw new UsageError('--to and --count apply to mint, not inspect');
  if (extra.length !== 1) throw new UsageError(extra.length === 0 ? 'inspect needs a UFRAG' : `unexpected argument '${extra[1]}'`);
  const lifetimeS = values.lifetime === undefined ? DEFAULT_LIFETIME_S : positiveInt('--lifetime', values.lifetime, 10 * 365 * 86400);
  const keyring = loadKeyring({ keysFile: values['keys-file'], env: process.env });
  const result = open(extra[0], keyring, Date.now(), { lifetimeMs: lifetimeS * 1000 });
  if (!result.ok) {
    console.log(JSON.stringify({ valid: false, reason: result.reason }));
    return 1;
  }
  console.log(
    JSON.stringify({
      valid: true,
      to: formatAddress(result.destination),
      keyId: result.keyId,
      issuedAt: new Date(result.issuedAt).toISOString(),
      expiresAt: new Date(result.expiresAt).toISOString(),
    }),
  );
  return 0;
}

export const command: Command = {
  summary: 'mint and inspect routing tokens (server ICE ufrags)',
  help,
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parse(argv);
    const [sub, ...extra] = positionals;
    if (sub === 'mint') return runMint(values, extra);
    if (sub === 'inspect') return runInspect(values, extra);
    throw new UsageError(sub === undefined ? 'missing subcommand: mint or inspect' : `unknown subcommand '${sub}'`);
  },
};
