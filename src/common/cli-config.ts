// Command-line flags + PARLEY_… environment variables + defaults → one typed config object.
// A process declares its settings once (a spec: flag, env variable, default, parser, help) and
// gets parsing, precedence (flag > env > default), help text and a Markdown table from it, so
// config keys are defined in one place (STYLE.md rule 14). A bad value throws ConfigError naming
// the flag and the env variable and saying why (the CLI exits 2). Not here: what a setting means.
//
// API (stable; relay and transceiver use it):
//   const spec = { listen: setting({ flag: 'listen', env: 'PARLEY_LISTEN', help, default: [...],
//                    parse: parsers.addressList, repeatable: true }), … };
//   const cfg = loadConfig(spec, argv, process.env);      // typed: ConfigOf<typeof spec>
//   onOffSwitch({ flag, env, help })                      // an off-by-default switch
//   renderSettingsHelp(spec) / renderSettingsMarkdown(spec)
//   parsers: string, int(min,max), address, addressList, url(protocols), oneOf(values), list(item)
// Every setting takes a value (`--flag VALUE` or `--flag=VALUE`); on/off settings use oneOf. A
// switch (a setting with `bare`) may be given alone, `--no-auth`, standing for that value.
// A repeatable flag may be given several times (values are concatenated); its env variable is
// comma-separated. `--help` is the CLI's business, not this module's.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress, parseAddress } from '../core/address.ts';
import { ConfigError, ConfigErrorCode } from './config-error.ts';

export interface Setting<T> {
  /** Long flag without dashes: 'listen' → --listen. */
  readonly flag: string;
  /** Environment variable, PARLEY_…. */
  readonly env: string;
  readonly help: string;
  /** Parsed value when neither flag nor env is given. */
  readonly default: T;
  /** How the default is shown in help, when String(default) is not it. */
  readonly defaultText?: string;
  /** Text → value; throws Error whose message says why the text is bad. */
  readonly parse: (text: string) => T;
  /** Flag may repeat; T must be an array and the values are concatenated. */
  readonly repeatable?: boolean;
  /** Placeholder in help (VALUE). */
  readonly metavar?: string;
  /** A switch: the flag alone (no `=VALUE`, and the next argument is not taken) stands for this value. */
  readonly bare?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SettingsSpec = Record<string, Setting<any>>;
export type ConfigOf<S extends SettingsSpec> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Identity helper that keeps T inferred for each entry of a spec. */
export function setting<T>(s: Setting<T>): Setting<T> {
  return s;
}

/** An on/off switch, off by default: `--flag` alone (or `--flag=on`, or its variable `=on`) turns it on. */
export function onOffSwitch(s: Pick<Setting<'on' | 'off'>, 'flag' | 'env' | 'help'>): Setting<'on' | 'off'> {
  return { ...s, default: 'off', bare: 'on', parse: parsers.oneOf(['on', 'off'] as const) };
}

function settingName(s: Setting<unknown>): string {
  return `--${s.flag} / ${s.env}`;
}

function parseWith<T>(s: Setting<T>, text: string, source: string): T {
  try {
    return s.parse(text);
  } catch (err) {
    throw new ConfigError(`${settingName(s)} (from ${source})`, (err as Error).message, ConfigErrorCode.invalid, { cause: err });
  }
}

/** Parses argv and env against the spec. Throws ConfigError on unknown flags and bad values. */
export function loadConfig<S extends SettingsSpec>(spec: S, argv: readonly string[], env: NodeJS.ProcessEnv): ConfigOf<S> {
  const byFlag = new Map<string, [string, Setting<unknown>]>();
  for (const [key, s] of Object.entries(spec)) byFlag.set(s.flag, [key, s]);
  const given = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--'))
      throw new ConfigError(arg, 'unexpected argument (every option is --name VALUE)', ConfigErrorCode.unexpectedArgument);
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const entry = byFlag.get(flag);
    if (!entry) throw new ConfigError(`--${flag}`, 'unknown option', ConfigErrorCode.unknownOption);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (entry[1].bare !== undefined) value = entry[1].bare;
    else {
      if (i + 1 >= argv.length) throw new ConfigError(settingName(entry[1]), 'needs a value', ConfigErrorCode.missingValue);
      value = argv[++i];
    }
    const list = given.get(entry[0]) ?? [];
    if (list.length > 0 && !entry[1].repeatable)
      throw new ConfigError(settingName(entry[1]), 'given more than once', ConfigErrorCode.repeated);
    list.push(value);
    given.set(entry[0], list);
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const flags = given.get(key);
    const envText = env[s.env];
    if (flags) {
      const values = flags.map((t) => parseWith(s, t, `--${s.flag} ${t}`));
      out[key] = s.repeatable ? (values as unknown[][]).flat() : values[0];
    } else if (envText !== undefined && envText !== '') {
      out[key] = parseWith(s, envText, s.env);
    } else {
      out[key] = s.default;
    }
  }
  return out as ConfigOf<S>;
}

function defaultShown(s: Setting<unknown>): string {
  if (s.defaultText !== undefined) return s.defaultText;
  const d = s.default;
  if (Array.isArray(d)) return d.map((x) => showValue(x)).join(',');
  return showValue(d);
}

function showValue(v: unknown): string {
  if (v === undefined) return '(none)';
  if (v && typeof v === 'object' && 'address' in v && 'port' in v) return formatAddress(v as TransportAddress);
  return String(v);
}

/** What follows the flag in help: ` VALUE`, or nothing for a switch. */
function flagValue(s: Setting<unknown>): string {
  return s.bare !== undefined ? '' : ` ${s.metavar ?? 'VALUE'}`;
}

/** Help lines: `  --flag VALUE   ENV   default: … — help`. */
export function renderSettingsHelp(spec: SettingsSpec): string {
  const rows = Object.values(spec).map((s) => [`--${s.flag}${flagValue(s)}${s.repeatable ? ' …' : ''}`, s.env, s]);
  const w0 = Math.max(...rows.map((r) => (r[0] as string).length));
  const w1 = Math.max(...rows.map((r) => (r[1] as string).length));
  return rows
    .map(([f, e, s]) => {
      const set = s as Setting<unknown>;
      return `  ${(f as string).padEnd(w0)}  ${(e as string).padEnd(w1)}  ${set.help} (default: ${defaultShown(set)})`;
    })
    .join('\n');
}

/** A Markdown table of the settings, for docs. */
export function renderSettingsMarkdown(spec: SettingsSpec): string {
  const lines = ['| Flag | Environment | Default | Meaning |', '|---|---|---|---|'];
  const cell = (t: string): string => t.replace(/\|/g, '\\|');
  for (const s of Object.values(spec)) {
    const flag = `\`--${s.flag}${flagValue(s)}\`${s.repeatable ? ' (repeatable)' : ''}`;
    lines.push(`| ${cell(flag)} | \`${s.env}\` | \`${cell(defaultShown(s))}\` | ${cell(s.help)} |`);
  }
  return lines.join('\n');
}

function address(text: string): TransportAddress {
  const a = parseAddress(text.trim());
  if (!a) throw new Error(`'${text}' is not HOST:PORT with a literal IP (e.g. 127.0.0.1:3478 or [::1]:3478)`);
  return a;
}

/** Parsers for common value kinds; each throws Error(reason). */
export const parsers = {
  string: (text: string): string => text,
  int(min: number, max: number): (text: string) => number {
    return (text) => {
      if (!/^-?\d+$/.test(text.trim())) throw new Error(`'${text}' is not an integer`);
      const n = Number(text);
      if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
      return n;
    };
  },
  address,
  addressList: (text: string): TransportAddress[] => list(address)(text),
  /** A Redis key prefix: 1..200 characters. */
  keyPrefix(text: string): string {
    if (text === '' || text.length > 200) throw new Error('must be 1..200 characters');
    return text;
  },
  url(protocols: readonly string[]): (text: string) => string {
    return (text) => {
      let u: URL;
      try {
        u = new URL(text);
      } catch {
        throw new Error(`'${text}' is not a URL`);
      }
      if (!protocols.includes(u.protocol)) throw new Error(`URL scheme must be one of ${protocols.join(' ')}, not ${u.protocol}`);
      return text;
    };
  },
  oneOf<V extends string>(values: readonly V[]): (text: string) => V {
    return (text) => {
      if (!(values as readonly string[]).includes(text)) throw new Error(`'${text}' is not one of ${values.join(', ')}`);
      return text as V;
    };
  },
  list,
};

/** Comma-separated list of items; empty items are an error. */
function list<E>(item: (text: string) => E): (text: string) => E[] {
  return (text) => {
    const parts = text.split(',').map((p) => p.trim());
    if (parts.some((p) => p === '')) throw new Error(`'${text}' has an empty item`);
    return parts.map(item);
  };
}
