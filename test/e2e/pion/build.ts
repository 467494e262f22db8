// Builds and runs the Pion interop client (main.go here) for test/e2e/pion-client.test.ts. The
// build is ../go-build.ts's (offline, GOPATH mode against Debian's sources, cached under
// os.tmpdir(), bounded); this module adds what the client prints and a bounded run of it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { APT_PACKAGES, buildGoProgram, findGoToolchain } from '../go-build.ts';
import type { BuiltProgram } from '../go-build.ts';

const SRC = fileURLToPath(new URL('./', import.meta.url));

/**
 * For a Pion test file: `skip` (false, or why Go or Pion is missing — in CI, CI=true, a missing
 * toolchain throws instead, so the test fails) and `build()`, which builds the client (a cold
 * build takes ~1 min on 2 shared cores; cached builds are instant) and returns its path.
 */
export async function pionPrerequisites(): Promise<{ readonly skip: false | string; build(): Promise<string> }> {
  const toolchain = await findGoToolchain();
  if (!toolchain.ok && process.env.CI === 'true')
    throw new Error(`CI=true and ${toolchain.reason}: the Pion interop test must run in CI (${APT_PACKAGES})`);
  const skip = toolchain.ok ? false : `${toolchain.reason} (apt-get install ${APT_PACKAGES})`;
  const build = async (): Promise<string> => {
    const built = await buildPionClient(240_000);
    const version = toolchain.ok ? toolchain.goVersion : '';
    console.log(`# pion client: ${built.built ? `built in ${Math.round(built.ms)} ms` : 'cached'} (${version}) at ${built.path}`);
    return built.path;
  };
  return { skip, build };
}

/** The client binary for the current sources: from the cache, or built within `timeoutMs`. */
export function buildPionClient(timeoutMs: number): Promise<BuiltProgram> {
  return buildGoProgram(SRC, timeoutMs);
}

/** What main.go prints as its one JSON line. */
export interface PionResult {
  readonly connected: boolean;
  readonly connectMs: number;
  readonly srtpProfile?: string;
  readonly dtlsRole?: 'client' | 'server';
  readonly dtlsCipherSuite?: string;
  readonly remoteCandidate?: string;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly payloadMismatch: number;
  readonly rtcpReceived: number;
  readonly location?: string;
  readonly hangupStatus?: number;
  /** With -datachannel (datachannel.go): what each channel saw, by label. */
  readonly dataChannels?: Record<string, PionChannelResult>;
  readonly error?: string;
}

export interface PionChannelResult {
  readonly id: number;
  readonly ordered: boolean;
  readonly sent: number;
  readonly got: number;
  readonly exact: boolean;
  readonly sizes: number[];
  readonly openMs: number;
  readonly closed?: boolean;
  readonly afterCloseEcho?: boolean;
  /** The channel Parley opened (handler parley-channel): its label, first message, Parley's close seen. */
  readonly label?: string;
  readonly hello?: string;
  readonly closedByParley?: boolean;
}

export interface PionRun {
  readonly code: number | null;
  readonly result: PionResult | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the client to completion; SIGKILL after `timeoutMs` (the result then says so). */
export function runPionClient(binary: string, args: string[], timeoutMs: number): Promise<PionRun> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      let result: PionResult | undefined;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as PionResult;
      } catch {
        result = undefined;
      }
      resolve({ code, result, stdout, stderr });
    });
  });
}
