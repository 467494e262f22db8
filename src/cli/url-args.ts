// Argument splitting shared by `parley call` and `parley load`: one positional http(s) URL and a
// `--json` switch, the rest being options for loadConfig (cli-config has no positionals). Every
// option of `spec` takes a value except its switches (settings with `bare`, e.g. `--tcp`), which
// is what lets a positional be told from an option's value.
import type { SettingsSpec } from '../common/cli-config.ts';
import { UsageError } from './command.ts';

export function splitUrlArgs(argv: readonly string[], spec: SettingsSpec = {}): { url: string; json: boolean; rest: string[] } {
  const switches = new Set(Object.values(spec).flatMap((s) => (s.bare === undefined ? [] : [`--${s.flag}`])));
  const rest: string[] = [];
  const positionals: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a.startsWith('--')) {
      rest.push(a);
      if (!a.includes('=') && !switches.has(a) && i + 1 < argv.length) rest.push(argv[++i]);
    } else positionals.push(a);
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing URL' : `unexpected argument '${positionals[1]}'`);
  if (!/^https?:\/\//i.test(positionals[0]) || !URL.canParse(positionals[0]))
    throw new UsageError(`'${positionals[0]}' is not an http(s) URL`);
  return { url: positionals[0], json, rest };
}
