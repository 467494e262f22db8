// Server-side DTLS handshakes per second per core, Parley's and Pion's, measured the same way in
// the same run (issue #18): one Pion client process (bench/pion-dtls) drives N handshakes, one
// after another over loopback UDP, against a server process — Parley's (bench/dtls-server-process.ts)
// or Pion's (bench/pion-dtls -mode server) — and the server's CPU time (user + system, every
// thread, from /proc/PID/stat) over those N handshakes is its cost. ECDHE-ECDSA-AES128-GCM with
// ECDSA P-256 certificates on both sides, X25519 (the client's first group, which both servers
// take), a client certificate checked against its fingerprint, and a cookie round trip.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { generateCertificate } from '../src/core/dtls/index.ts';
import type { DtlsCertificate } from '../src/core/dtls/index.ts';
import { buildGoProgram } from '../test/e2e/go-build.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

export interface ServerCost {
  server: 'parley' | 'pion';
  handshakes: number;
  /** Server process CPU seconds over the measured handshakes. */
  cpuS: number;
  /** Wall-clock seconds the client needed for them (client and server together, one at a time). */
  wallS: number;
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
}

function writeIdentity(dir: string, name: string, cert: DtlsCertificate): { cert: string; key: string; hex: string } {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  writeFileSync(files.cert, pem('CERTIFICATE', cert.der));
  writeFileSync(files.key, cert.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { ...files, hex: cert.fingerprint.replaceAll(':', '') };
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${signal ?? `exit ${code}`}: ${out}`))));
  });
}

async function listening(child: ChildProcessByStdio<null, Readable, Readable>): Promise<number> {
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^listening (\d+)$/.exec(line);
    if (m) return Number(m[1]);
  }
  throw new Error('server exited before listening');
}

/** Measures both servers with `n` handshakes each (after `warmup` unmeasured ones). */
export async function measureServerCosts(n: number, warmup = 200): Promise<ServerCost[]> {
  const { path: pionDtls } = await buildGoProgram(here('./pion-dtls'), 300_000);
  const dir = mkdtempSync(join(tmpdir(), 'parley-dtls-rate-'));
  try {
    const server = writeIdentity(dir, 'server', generateCertificate());
    const client = writeIdentity(dir, 'client', generateCertificate());
    const identity = (id: typeof server, peer: typeof server): string[] => ['-cert', id.cert, '-key', id.key, '-peer-fingerprint', peer.hex];
    const servers = {
      parley: (): ChildProcessByStdio<null, Readable, Readable> =>
        spawn(process.execPath, [here('./dtls-server-process.ts'), server.cert, server.key, client.hex.replace(/..(?!$)/g, '$&:')], {
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      pion: (): ChildProcessByStdio<null, Readable, Readable> =>
        spawn(pionDtls, ['-mode', 'server', ...identity(server, client)], { stdio: ['ignore', 'pipe', 'inherit'] }),
    };
    const costs: ServerCost[] = [];
    for (const name of ['parley', 'pion'] as const) {
      const child = servers[name]();
      try {
        const port = await listening(child);
        const drive = (count: number): Promise<string> =>
          run(pionDtls, ['-mode', 'client', '-addr', `127.0.0.1:${port}`, '-n', String(count), ...identity(client, server)], 120_000);
        await drive(warmup);
        const before = cpuSeconds(child.pid!);
        const t0 = performance.now();
        await drive(n);
        const wallS = (performance.now() - t0) / 1000;
        costs.push({ server: name, handshakes: n, cpuS: cpuSeconds(child.pid!) - before, wallS });
      } finally {
        child.kill('SIGKILL');
      }
    }
    return costs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
