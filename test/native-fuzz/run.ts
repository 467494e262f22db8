// `npm run test:native-fuzz [-- SECONDS]` (issue #19): builds native/fuzz/relay_parse_fuzz.c —
// the relay datapath's per-datagram decisions and its first-check verifier (linked with the
// system libcrypto) — with clang's libFuzzer, AddressSanitizer and fatal UBSan, and fuzzes it
// for SECONDS (default 30) from the seed corpus in native/fuzz/corpus. New inputs go to a corpus under os.tmpdir(), never into the repository;
// a crash leaves its input there too and fails the run. Prints executions per second and the
// coverage (edges, features) libFuzzer reached. Needs Debian's clang and libclang-rt-14-dev.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const seconds = Number(process.argv[2] ?? 30);
if (!(seconds > 0 && seconds <= 3600)) throw new Error(`seconds must be in (0, 3600], got ${process.argv[2]}`);
const work = join(tmpdir(), 'parley-native-fuzz');
rmSync(work, { recursive: true, force: true });
const corpus = join(work, 'corpus');
mkdirSync(corpus, { recursive: true });
const binary = join(work, 'relay_parse_fuzz');
execFileSync(
  'clang',
  [
    '-g',
    '-O1',
    '-std=gnu11',
    '-D_GNU_SOURCE',
    '-DPARLEY_RELAY_DECISIONS_ONLY',
    '-Wall',
    '-Wextra',
    '-Wno-unused-function', // the socket and table helpers the decisions do not use
    '-fsanitize=fuzzer,address,undefined',
    '-fno-sanitize-recover=all',
    join(root, 'native/fuzz/relay_parse_fuzz.c'),
    '-o',
    binary,
    // first_check.h's OpenSSL calls (the addon takes them from the node binary): the system libcrypto
    '-lcrypto',
  ],
  { stdio: 'inherit' },
);

const child = spawn(
  binary,
  [
    `-max_total_time=${seconds}`,
    '-print_final_stats=1',
    '-rss_limit_mb=1024',
    `-artifact_prefix=${work}/`,
    corpus,
    join(root, 'native/fuzz/corpus'),
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let log = '';
child.stderr.on('data', (d: Buffer) => (log += d.toString()));
const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
child.once('exit', (code, signal) => {
  clearTimeout(timer);
  const inited = /INITED cov: (\d+) ft: (\d+)/.exec(log);
  const done = /DONE\s+cov: (\d+) ft: (\d+) corp: (\S+)/.exec(log);
  const execs = /stat::number_of_executed_units:\s*(\d+)/.exec(log)?.[1];
  const rate = /stat::average_exec_per_sec:\s*(\d+)/.exec(log)?.[1];
  if (code !== 0 || !done) {
    console.error(log.split('\n').slice(-60).join('\n'));
    console.error(`native-fuzz: FAILED (${signal ?? `exit ${code}`}); the crashing input is in ${work}`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `native-fuzz: relay_parse_fuzz ${seconds} s: ${execs} executions (${rate}/s); coverage ${done[1]} edges, ${done[2]} features ` +
      `(seeds alone: ${inited?.[1]} edges, ${inited?.[2]} features); corpus ${done[3]} in ${corpus}`,
  );
});
