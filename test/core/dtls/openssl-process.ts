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

export interface OpensslIdentity {
  dir: string;
  cert: string;
  key: string;
  fingerprint: string;
  remove(): void;
}

/** An ECDSA P-256 self-signed certificate made by openssl itself, in a fresh temp dir. */
export function makeOpensslIdentity(): OpensslIdentity {
  const dir = mkdtempSync(join(tmpdir(), 'parley-dtls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=openssl-peer', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 10_000 });
  const fingerprint = new X509Certificate(readFileSync(cert)).fingerprint256;
  return { dir, cert, key, fingerprint, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class OpensslProcess {
  readonly #proc: ChildProcessWithoutNullStreams;
  #out = '';
  #err = '';
  #exited: Promise<void>;
  #listeners: (() => void)[] = [];

  constructor(args: string[]) {
    this.#proc = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const wake = (): void => {
      for (const l of this.#listeners.splice(0)) l();
    };
    this.#proc.stdout.on('data', (d: Buffer) => {
      this.#out += d.toString('latin1');
      wake();
    });
    this.#proc.stderr.on('data', (d: Buffer) => {
      this.#err += d.toString('latin1');
      wake();
    });
    this.#exited = new Promise((resolve) => {
      this.#proc.on('exit', () => {
        wake();
        resolve();
      });
      this.#proc.on('error', (e) => {
        this.#err += `spawn error: ${e.message}`;
        wake();
        resolve();
      });
    });
  }

  get output(): string {
    return this.#out;
  }

  /** Waits until stdout (or stderr) matches `re` (bounded), and returns the match. */
  async waitFor(re: RegExp, ms: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
    const deadline = performance.now() + ms;
    for (;;) {
      const m = re.exec(stream === 'stdout' ? this.#out : this.#err);
      if (m) return m;
      const left = deadline - performance.now();
      if (left <= 0 || this.#proc.exitCode !== null) {
        throw new Error(`openssl: no ${re} within ${ms} ms (exit ${this.#proc.exitCode})\nstdout:\n${this.#out}\nstderr:\n${this.#err}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#listeners.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
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
