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
  /** 'parley' (the transceiver's default socket), 'parley (dgram socket)', 'pion', or the label of a baseline checkout. */
  server: string;
  handshakes: number;
  /** Handshakes that timed out, left out of cpuMs. */
  failed: number;
  /** Server process CPU milliseconds per handshake: the median over the rounds. */
  cpuMs: number;
  /** Each round's figure, to show the spread. */
  rounds: number[];
  /** The share of the CPU time spent in the kernel (stime), over all rounds: the socket path's part. */
  kernelShare: number;
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;
}

function writeIdentity(dir: string, name: string, cert: DtlsCertificate): { cert: string; key: string; hex: string } {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  writeFileSync(files.cert, pem('CERTIFICATE', cert.der));
  writeFileSync(files.key, cert.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { ...files, hex: cert.fingerprint.replaceAll(':', '') };
}

/** utime and stime of a process, in seconds. */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / CLK_TCK, system: Number(f[12]) / CLK_TCK };
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

async function listening(child: Server): Promise<number> {
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^listening (\d+)/.exec(line);
    if (m) return Number(m[1]);
  }
  throw new Error('server exited before listening');
}

type Server = ChildProcessByStdio<null, Readable, null>;

/**
 * Measures each server with `rounds` × `n` handshakes (after `warmup` unmeasured ones), the
 * servers taking turns round by round so that a change in the machine's load hits them alike.
 * `baselines` maps a label to another checkout's bench/dtls-server-process.ts (before/after).
 */
export async function measureServerCosts(
  n: number,
  rounds = 3,
  warmup = 200,
  baselines: Record<string, string> = {},
): Promise<ServerCost[]> {
  const { path: pionDtls } = await buildGoProgram(here('./pion-dtls'), 300_000);
  const dir = mkdtempSync(join(tmpdir(), 'parley-dtls-rate-'));
  const children: Server[] = [];
  try {
    const server = writeIdentity(dir, 'server', generateCertificate());
    const client = writeIdentity(dir, 'client', generateCertificate());
    const identity = (id: typeof server, peer: typeof server): string[] => [
      '-cert',
      id.cert,
      '-key',
      id.key,
      '-peer-fingerprint',
      peer.hex,
    ];
    const parley = (script: string, ...io: string[]): Server =>
      spawn(process.execPath, [script, server.cert, server.key, client.hex.replace(/..(?!$)/g, '$&:'), ...io], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    const starters: Record<string, () => Server> = {
      // The transceiver's default media socket (native where the addon is built), then node:dgram.
      parley: () => parley(here('./dtls-server-process.ts')),
      'parley (dgram socket)': () => parley(here('./dtls-server-process.ts'), 'dgram'),
      pion: () => spawn(pionDtls, ['-mode', 'server', ...identity(server, client)], { stdio: ['ignore', 'pipe', 'inherit'] }),
    };
    for (const [label, script] of Object.entries(baselines)) starters[label] = () => parley(script);
    const running: { name: string; child: Server; port: number; rounds: number[]; failed: number; user: number; system: number }[] = [];
    for (const [name, start] of Object.entries(starters)) {
      const child = start();
      children.push(child);
      running.push({ name, child, port: await listening(child), rounds: [], failed: 0, user: 0, system: 0 });
    }
    const drive = (port: number, count: number): Promise<string> =>
      run(pionDtls, ['-mode', 'client', '-addr', `127.0.0.1:${port}`, '-n', String(count), ...identity(client, server)], 120_000);
    for (const s of running) await drive(s.port, warmup);
    for (let r = 0; r < rounds; r++) {
      for (const s of running) {
        const before = cpuTimes(s.child.pid!);
        // A handshake that timed out (a datagram lost on a loaded machine) is left out of the count.
        const failed = Number(/failed (\d+)/.exec(await drive(s.port, n))?.[1] ?? n);
        s.failed += failed;
        const after = cpuTimes(s.child.pid!);
        s.user += after.user - before.user;
        s.system += after.system - before.system;
        s.rounds.push(((after.user - before.user + after.system - before.system) * 1000) / Math.max(1, n - failed));
      }
    }
    return running.map((s) => ({
      server: s.name,
      handshakes: n * rounds,
      failed: s.failed,
      cpuMs: median(s.rounds),
      rounds: s.rounds,
      kernelShare: s.system / Math.max(1e-9, s.user + s.system),
    }));
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
