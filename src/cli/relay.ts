// `parley relay`: the edge relay process. Parses settings (src/relay/config.ts), starts the
// supervisor and its workers, and turns SIGTERM/SIGINT into a graceful stop (stop reading,
// flush pending flow-store writes, exit 0). Bad settings exit 2 via ConfigError in main.ts.
import type { Command } from './command.ts';
import { renderSettingsHelp } from '../common/cli-config.ts';
import { ConfigError } from '../common/config-error.ts';
import { createLogger } from '../common/log.ts';
import { relaySettings, resolveRelayConfig } from '../relay/config.ts';
import { startRelay } from '../relay/relay.ts';

const help = `Usage: parley relay [options]

The one-port edge relay: accepts a client's first packet only as a STUN check carrying a valid
routing token (the server ICE ufrag) with correct MESSAGE-INTEGRITY, then forwards every packet
of that client address to the transceiver the token names, with a relay header (docs/wire-format.md).

Options (each also as an environment variable; a flag wins over its variable):
${renderSettingsHelp(relaySettings)}
  -h, --help

Keys: --keys-file FILE, or PARLEY_KEYS holding the keyring text (\`parley keys generate\`).
Signals: SIGTERM/SIGINT stop reading, flush pending flow-store writes and exit 0.
Exit status: 0 stopped cleanly, 1 failed to start (e.g. a port is taken), 2 bad configuration.
See docs/relay.md.`;

export const command: Command = {
  summary: 'run the one-port edge relay',
  help,
  async run(argv: string[]): Promise<number> {
    const cfg = resolveRelayConfig(argv, process.env);
    const log = createLogger({ component: 'relay', level: cfg.logLevel });
    // Handlers go in before start-up, so a SIGTERM while starting is a clean stop, not a kill.
    let signalled: (sig: string) => void = () => {};
    const stopRequested = new Promise<string>((resolve) => (signalled = resolve));
    const onSignal = (sig: string): void => signalled(sig);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      let relay;
      try {
        relay = await startRelay(cfg, log);
      } catch (err) {
        log.error('relay failed to start', { err, setting: err instanceof ConfigError ? err.setting : undefined });
        // A port held by a relay with other keys (relay.ts) is a configuration error: exit 2.
        return err instanceof ConfigError ? 2 : 1;
      }
      log.info('stopping', { signal: await stopRequested });
      await relay.stop();
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    return 0;
  },
};
