// The Dockerfile, checked statically (no Docker engine here): multi-stage on Node 24 slim,
// production dependencies only, a non-root runtime user, `node bin/parley.ts` as entrypoint,
// a build context that holds exactly what the image copies, and runtime code that needs no
// devDependency (the image has none) — the last test runs the image's file layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './manifests.ts';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(pending)!;
    out.push({ op: m[1].toUpperCase(), args: m[2] });
    pending = '';
  }
  return out;
}

function stages(ins: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const i of ins) {
    if (i.op === 'ARG' && out.length === 0) {
      const [k, v] = i.args.split('=');
      if (v !== undefined) args.set(k, v);
    } else if (i.op === 'FROM') {
      const [image, as, name] = i.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? '');
      out.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else {
      assert.ok(out.length > 0, `${i.op} before FROM`);
      out.at(-1)!.body.push(i);
    }
  }
  return { args, stages: out };
}

const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const { stages: all } = stages(instructions(dockerfile));
const runtime = all.at(-1)!;
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test('multi-stage, every stage on Node 24 bookworm-slim (the major the node devDependency pins)', () => {
  assert.ok(all.length >= 2, 'a dependency stage and a runtime stage');
  for (const s of all) assert.match(s.from, /^node:24(\.\d+){0,2}-bookworm-slim(@sha256:[0-9a-f]{64})?$/, s.from);
  assert.equal(pkg.devDependencies.node.split('.')[0], '24');
});

test('production dependencies only: npm ci --omit=dev, never npm install', () => {
  const runs = all.flatMap((s) => s.body.filter((i) => i.op === 'RUN').map((i) => i.args));
  assert.ok(
    runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r)),
    'npm ci --omit=dev',
  );
  for (const r of runs) assert.doesNotMatch(r, /\bnpm (install|i)\b/);
  const copies = all[0].body.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(
    copies.some((c) => c.includes('package-lock.json')),
    'the lock file decides versions',
  );
});

test('the runtime stage runs as a non-root user and starts `node bin/parley.ts`', () => {
  const users = runtime.body.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
  assert.ok(users.length > 0, 'USER in the runtime stage');
  assert.ok(!['root', '0'].includes(users.at(-1)!), `USER ${users.at(-1)}`);
  assert.ok(users.at(-1) === 'node' || Number(users.at(-1)) > 0);
  const entry = runtime.body.filter((i) => i.op === 'ENTRYPOINT').at(-1);
  assert.deepEqual(JSON.parse(entry!.args), ['node', 'bin/parley.ts'], "exec form, the image's own node");
  const copies = runtime.body.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(
    copies.some((c) => /--from=\S+\s+\S*node_modules/.test(c)),
    'node_modules from the dependency stage',
  );
  for (const dir of ['bin', 'src', 'web', 'package.json'])
    assert.ok(
      copies.some((c) => c.split(/\s+/)[0] === dir),
      `COPY ${dir}`,
    );
  for (const c of copies) assert.doesNotMatch(c, /^\.\s/, 'no COPY . (tests, benchmarks, deploy files and keys stay out)');
});

test('.dockerignore allow-lists exactly what the Dockerfile copies from the context', () => {
  const lines = readFileSync(join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '*', 'everything is excluded first');
  const allowed = new Set(
    lines.slice(1).map((l) => {
      assert.ok(l.startsWith('!'), l);
      return l.slice(1);
    }),
  );
  const fromContext = all.flatMap((s) =>
    s.body
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      ),
  );
  assert.deepEqual([...new Set(fromContext)].sort(), [...allowed].sort());
});

test('src/ and bin/ import only production dependencies and Node built-ins (the image has no devDependencies)', () => {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(join(dir, e.name), 'utf8');
        // Static imports and re-exports (type-only ones are erased), and dynamic import().
        for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^'.][^']*)'/gms)) if (!m[1]) found.add(m[2]);
        for (const m of text.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)/g)) found.add(m[1]);
      }
    }
  };
  walk(join(REPO, 'src'));
  walk(join(REPO, 'bin'));
  assert.ok(found.size > 0);
  for (const spec of found) {
    if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    assert.ok(name in pkg.dependencies, `${spec} is imported at run time but is not in package.json "dependencies"`);
  }
});

test("the image layout runs: only the copied paths and the lock file's production packages, then `parley transceiver` starts and stops", async () => {
  // What the runtime stage holds, without Docker: the context paths it copies, and
  // node_modules with only the packages `npm ci --omit=dev` installs (lock entries without
  // "dev": true), linked from this checkout's node_modules.
  const tmp = mkdtempSync(join(tmpdir(), 'parley-image-'));
  try {
    const copied = runtime.body
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const p of copied) cpSync(join(REPO, p), join(tmp, p), { recursive: true });
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const prod = Object.entries(lock.packages)
      .filter(([k, v]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k) && !v.dev)
      .map(([k]) => k);
    assert.ok(prod.length >= Object.keys(pkg.dependencies).length);
    for (const p of prod) {
      mkdirSync(dirname(join(tmp, p)), { recursive: true });
      symlinkSync(join(REPO, p), join(tmp, p));
    }
    const keys = execFileSync(process.execPath, ['bin/parley.ts', 'keys', 'generate'], { cwd: tmp, encoding: 'utf8' }).trim();
    const child = spawn(process.execPath, ['bin/parley.ts', 'transceiver'], {
      cwd: tmp,
      env: {
        PATH: process.env.PATH,
        PARLEY_KEYS: keys,
        PARLEY_HTTP: '127.0.0.1:0',
        PARLEY_OPS: '127.0.0.1:0',
        PARLEY_MEDIA: '127.0.0.1:0',
        PARLEY_DEMO_PAGE: 'off',
        PARLEY_DRAIN_SECONDS: '1',
        PARLEY_NO_AUTH: 'on',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`${code} ${signal}`)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`transceiver did not start: ${log}`)), 30_000);
      child.stderr.on('data', (b: Buffer) => {
        log += b.toString();
        if (log.includes('"listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`transceiver exited: ${log}`));
      });
    });
    // Ready over HTTP, as the kubelet sees it (this also lets the event loop turn once, so
    // the SIGTERM handler is live: a signal sent the instant the line appears can still meet
    // the default action).
    const ops = (JSON.parse(log.split('\n').find((l) => l.includes('"listening"'))!) as { ops: string }).ops;
    const ready = await fetch(`http://${ops}/readyz`);
    assert.equal(ready.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, '0 null', log);
    assert.match(log, /"msg":"stopped"/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('every native addon native/binding.gyp builds is checked in the dependency stage and copied into the runtime stage', () => {
  const gyp = readFileSync(join(REPO, 'native', 'binding.gyp'), 'utf8');
  const targets = [...gyp.matchAll(/"target_name":\s*"([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(targets.includes('parley_relay') && targets.includes('parley_media_socket'), targets.join(', '));
  // The check loop reads the same target names with sed: run that expression on the file here.
  const runs = all[0].body
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join('\n');
  const sed = /sed -n '([^']+)' native\/binding\.gyp/.exec(runs);
  assert.ok(sed, 'the dependency stage lists the targets from binding.gyp');
  const listed = execFileSync('sed', ['-n', sed[1], join(REPO, 'native', 'binding.gyp')], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.deepEqual(listed, targets);
  assert.match(runs, /test -f "native\/build\/Release\/\$t\.node"/);
  const copies = runtime.body.filter((i) => i.op === 'COPY' && i.args.includes('--from=')).map((i) => i.args);
  assert.ok(
    copies.some((c) => /native\/build\/Release\/\*\.node\s+\.\/native\/build\/Release\/$/.test(c)),
    copies.join('\n'),
  );
});
