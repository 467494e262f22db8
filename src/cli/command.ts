// The shape of one `parley` subcommand. Each lives in its own file in src/cli and is loaded
// lazily by main.ts, so `parley token …` does not pay for loading the relay or the transceiver.
export interface Command {
  /** One line for `parley --help`. */
  readonly summary: string;
  /** Full text for `parley <command> --help`: usage, every option, its env variable and default. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(argv: string[]): Promise<number>;
}

/** A usage error: main prints the message and the command's help hint, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
