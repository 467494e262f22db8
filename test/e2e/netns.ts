// A network namespace a test builds for one browser, so a firewall rule can apply to that browser
// alone: a veth pair joins it to this machine (10.231.N.1 on the host side, 10.231.N.2 inside,
// N from the test process's id so two test files never share a subnet), with a default route to
// the host side. `blockUdp()` adds an nftables table inside the namespace that drops every UDP
// datagram in and out (what a hotel or corporate firewall that lets only TCP out does: silent
// drops, no ICMP); `allowUdp()` removes it. Processes run inside with `ip netns exec NAME …`
// (`wrap`). `close()` deletes the namespace (its rules and its end of the veth go with it) and
// the host end; a process exit without close() does the same, so no namespace or rule outlives a
// run. Needs root (CAP_NET_ADMIN), iproute2 and nftables (.ci/run installs them).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Netns {
  /** The namespace's name (for `ip netns exec`). */
  readonly name: string;
  /** This machine's address on the veth pair: servers the browser must reach listen here. */
  readonly hostIp: string;
  /** The browser's address inside the namespace. */
  readonly nsIp: string;
  /** argv that runs `argv` inside the namespace. */
  wrap(argv: readonly string[]): string[];
  /** Drops all UDP in and out of the namespace (nftables, inside it). Idempotent. */
  blockUdp(): Promise<void>;
  /** Removes the UDP rule. Idempotent. */
  allowUdp(): Promise<void>;
  /** The nftables ruleset inside the namespace, for failure messages. */
  ruleset(): Promise<string>;
  /** Deletes the namespace and the host end of the veth pair. Idempotent. */
  close(): Promise<void>;
}

/** Why a namespace test cannot run here (not root, no `ip` or `nft`), or undefined when it can. */
export async function netnsMissing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, flag, pkg] of [
    ['ip', '-V', 'iproute2'],
    ['nft', '--version', 'nftables'],
  ] as const) {
    try {
      await run(tool, [flag]);
    } catch {
      return `${tool} not found (apt-get install ${pkg})`;
    }
  }
  return undefined;
}

const UDP_TABLE = 'parley_udp_block';
const BLOCK_UDP = `table inet ${UDP_TABLE} {
  chain out { type filter hook output priority 0; policy accept; meta l4proto udp drop; }
  chain in { type filter hook input priority 0; policy accept; meta l4proto udp drop; }
}
`;

/** Builds the namespace (`tag` keeps the names of two namespaces in one test process apart: 0-9). */
export async function createNetns(tag = 0): Promise<Netns> {
  const n = ((process.pid % 50) * 5 + tag) % 250; // 0..249: a /24 per namespace
  const name = `parley-${process.pid}-${tag}`;
  // Interface names are at most 15 bytes.
  const hostIf = `pb${process.pid % 100000}h${tag}`;
  const nsIf = `pb${process.pid % 100000}n${tag}`;
  const hostIp = `10.231.${n}.1`;
  const nsIp = `10.231.${n}.2`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    process.off('exit', onExit);
    await run('ip', ['netns', 'del', name]).catch(() => {});
    await run('ip', ['link', 'del', hostIf]).catch(() => {}); // gone with its peer already, normally
  };
  const onExit = (): void => {
    for (const argv of [
      ['netns', 'del', name],
      ['link', 'del', hostIf],
    ])
      try {
        execFileSync('ip', argv, { stdio: 'ignore' });
      } catch {
        // already gone
      }
  };
  process.once('exit', onExit);
  const ns = (...argv: string[]): Promise<unknown> => run('ip', ['netns', 'exec', name, ...argv]);
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostIp}/24`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await ns('ip', 'link', 'set', 'lo', 'up');
    await ns('ip', 'addr', 'add', `${nsIp}/24`, 'dev', nsIf);
    await ns('ip', 'link', 'set', nsIf, 'up');
    await ns('ip', 'route', 'add', 'default', 'via', hostIp);
  } catch (err) {
    await close();
    throw err;
  }
  let blocked = false;
  return {
    name,
    hostIp,
    nsIp,
    wrap: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    async blockUdp() {
      if (blocked) return;
      await new Promise<void>((resolve, reject) => {
        const child = execFile('ip', ['netns', 'exec', name, 'nft', '-f', '-'], (err) => (err ? reject(err) : resolve()));
        child.stdin!.end(BLOCK_UDP);
      });
      blocked = true;
    },
    async allowUdp() {
      if (!blocked) return;
      await ns('nft', 'delete', 'table', 'inet', UDP_TABLE);
      blocked = false;
    },
    async ruleset() {
      const { stdout } = await run('ip', ['netns', 'exec', name, 'nft', 'list', 'ruleset']);
      return stdout;
    },
    close,
  };
}
