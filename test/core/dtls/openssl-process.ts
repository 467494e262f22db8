// Test helper: an `openssl s_server` / `s_client` child process with bounded waits on its output
// and a kill that always reaps it. If openssl is missing the spawn fails and so does the test
// (on purpose: interop is not optional).
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../support/wait-for.ts';

export interface OpensslIdentity {
  dir: string;
  cert: string;
  key: string;
  fingerprint: string;
  remove(): void;
}

/** `openssl req -newkey` arguments for the key kinds the interop tests use. */
export const OPENSSL_KEYS = {
  p256: ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
  p384: ['ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1'],
  rsa2048: ['rsa:2048'],
  rsa3072: ['rsa:3072'],
  rsa4096: ['rsa:4096'],
} as const;

/** A self-signed certificate made by openssl itself (ECDSA P-256 by default), in a fresh temp dir. */
export function makeOpensslIdentity(newkey: readonly string[] = OPENSSL_KEYS.p256): OpensslIdentity {
  const dir = mkdtempSync(join(tmpdir(), 'parley-dtls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', ...newkey, '-nodes', '-subj', '/CN=openssl-peer', '-days', '2', '-keyout', key, '-out', cert],
    { stdio: 'ignore', timeout: 60_000 },
  );
  const fingerprint = new X509Certificate(readFileSync(cert)).fingerprint256;
  return { dir, cert, key, fingerprint, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class OpensslProcess {
  readonly #proc: ChildProcessWithoutNullStreams;
  #out = '';
  #err = '';
  #exited: Promise<void>;
  #spawnFailed = false;

  /** `command` is openssl by default; the GnuTLS tests run gnutls-cli/gnutls-serv through it too. */
  constructor(args: string[], command = 'openssl') {
    this.#proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stdout.on('data', (d: Buffer) => {
      this.#out += d.toString('latin1');
    });
    this.#proc.stderr.on('data', (d: Buffer) => {
      this.#err += d.toString('latin1');
    });
    this.#exited = new Promise((resolve) => {
      this.#proc.on('exit', () => resolve());
      this.#proc.on('error', (e) => {
        this.#err += `spawn error: ${e.message}`;
        this.#spawnFailed = true;
        resolve();
      });
    });
  }

  get output(): string {
    return this.#out;
  }

  /** Waits until stdout (or stderr) matches `re` (bounded), and returns the match. */
  waitFor(re: RegExp, ms: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
    const failure = (): string =>
      `${this.#proc.spawnfile}: no ${re} within ${ms} ms (exit ${this.#proc.exitCode})\nstdout:\n${this.#out}\nstderr:\n${this.#err}`;
    return waitFor(
      () => {
        const m = re.exec(stream === 'stdout' ? this.#out : this.#err);
        if (m) return m;
        // A process that is gone will print nothing more: fail now rather than at the timeout.
        if (this.#proc.exitCode !== null || this.#spawnFailed) throw new Error(failure());
        return undefined;
      },
      { timeoutMs: ms, intervalMs: 5, what: failure },
    );
  }

  write(text: string): void {
    this.#proc.stdin.write(text);
  }

  /** Kills the process (if still running) and waits for it to be reaped. */
  async kill(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGKILL');
    await this.#exited;
  }
}

/** Parses "Keying material: HEX" from openssl's -keymatexport output. */
export async function opensslKeyingMaterial(p: OpensslProcess, ms: number): Promise<Buffer> {
  const m = await p.waitFor(/Keying material: ([0-9A-F]+)/, ms);
  return Buffer.from(m[1], 'hex');
}

/** s_server/s_client arguments for one DTLS 1.2 run: identity, cipher list, SRTP profile, keying-material export. */
export function opensslDtlsArgs(
  peer: OpensslIdentity,
  cipher: string,
  srtpProfile: string,
  keyingLength: number,
  extra: readonly string[],
): string[] {
  return [
    '-dtls1_2',
    '-cert',
    peer.cert,
    '-key',
    peer.key,
    '-cipher',
    cipher,
    '-use_srtp',
    srtpProfile,
    '-keymatexport',
    'EXTRACTOR-dtls_srtp',
    '-keymatexportlen',
    String(keyingLength),
    ...extra,
  ];
}
