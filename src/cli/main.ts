// `parley` entry point: picks the subcommand, prints help, maps errors to exit statuses
// (0 ok, 1 the operation said no — e.g. a rejected token, 2 usage or configuration error).
import { readFileSync } from 'node:fs';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { ConfigError } from '../common/config-error.ts';

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  keys: { summary: 'generate a routing-token keyring', load: async () => (await import('./keys.ts')).command },
  token: { summary: 'mint and inspect routing tokens (server ICE ufrags)', load: async () => (await import('./token.ts')).command },
  relay: { summary: 'run the one-port edge relay', load: async () => (await import('./relay.ts')).command },
  transceiver: {
    summary: 'run the transceiver: signaling API + media endpoint for relays',
    load: async () => (await import('./transceiver.ts')).command,
  },
  call: {
    summary: 'make a WebRTC voice call from the command line (send a tone/WAV, record the reply)',
    load: async () => (await import('./call.ts')).command,
  },
  dev: {
    summary: 'run a relay + transceiver + demo page locally (no Redis, no configuration)',
    load: async () => (await import('./dev.ts')).command,
  },
  load: {
    summary: 'load-test: many WebRTC calls from one process (connect percentiles, loss, RTT)',
    load: async () => (await import('./load.ts')).command,
  },
};

/** The version of this checkout or image: package.json's, the one file that states it. */
export function parleyVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function topHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: parley <command> [options]',
    '',
    'Parley: a one-port WebRTC voice edge (stateless relay + stateful transceiver).',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `parley <command> --help` for the options of a command, `parley --version` for the version.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(`parley ${parleyVersion()}`);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    console.error(`parley: unknown command '${name}'\n\n${topHelp()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`parley ${name}: ${err.message}\nRun 'parley ${name} --help' for usage.`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`parley ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
