// Launches Debian's Firefox ESR headless for the browser end-to-end test, with no driver
// library: a fresh profile directory whose user.js sets what the test needs (a fake microphone
// without a permission prompt, autoplay) and keeps Firefox from reaching out to Mozilla (the
// machine may have no internet, and a Firefox waiting on one is a flaky test).
// Firefox and its child processes run in a process group of their own, so `close()` can end
// all of them; it waits a bounded time and removes the temporary folder holding the profile
// (it is HOME and the XDG folders too, so nothing lands under the real home). Not a WebDriver:
// the page reports back by itself (page-server.ts).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nonLoopbackIPv4 } from '../helpers.ts';

export const FIREFOX = process.env.PARLEY_FIREFOX ?? '/usr/bin/firefox-esr';

/** True when the Firefox binary exists; in CI its absence is a failure, not a skip. */
export const firefoxAvailable = (): Promise<boolean> =>
  access(FIREFOX).then(
    () => true,
    () => false,
  );

const PREFS: Record<string, boolean | number | string> = {
  // getUserMedia: Firefox's fake audio device (a tone), granted without a prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // No first-run pages, default-browser check, session restore or crash-resume prompts.
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'startup.homepage_welcome_url': 'about:blank',
  'startup.homepage_welcome_url.additional': '',
  'browser.aboutwelcome.enabled': false,
  'browser.sessionstore.resume_from_crash': false,
  'toolkit.startup.max_resumed_crashes': -1,
  'browser.tabs.warnOnClose': false,
  'datareporting.policy.dataSubmissionPolicyBypassNotification': true,
  // Every HTTP(S) request to anywhere but localhost goes to a proxy on a closed port, and every
  // name resolves to 127.0.0.1 without asking DNS, so it fails at once instead of waiting on
  // DNS or a firewall (remote settings, push, telemetry and new-tab content all try; release
  // builds ignore services.settings.server). Loopback is never proxied
  // (network.proxy.allow_hijacking_localhost is false), and ICE does not use the proxy
  // (media.peerconnection.ice.proxy_only* are false).
  'network.dns.forceResolve': '127.0.0.1',
  'network.proxy.type': 1,
  'network.proxy.http': '127.0.0.1',
  'network.proxy.http_port': 9,
  'network.proxy.ssl': '127.0.0.1',
  'network.proxy.ssl_port': 9,
  'network.proxy.no_proxies_on': 'localhost,127.0.0.1',
  // …and what can be switched off is: telemetry, updates, studies, safe browsing, push, captive portal.
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': '',
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'app.update.disabledForTesting': true,
  'app.update.auto': false,
  'extensions.update.enabled': false,
  'extensions.blocklist.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.search.update': false,
  'browser.region.update.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.newtab.preload': false,
  'dom.push.connection.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.http.speculative-parallel-limit': 0,
  'dom.security.https_only_mode': false,
  'security.OCSP.enabled': 0,
  'media.gmp-manager.updateEnabled': false,
  'identity.fxaccounts.enabled': false,
};

const userJs = (prefs: Record<string, boolean | number | string>): string =>
  Object.entries(prefs)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`)
    .join('');

export interface FirefoxOptions {
  /** Extra prefs (win over the defaults above). */
  readonly prefs?: Record<string, boolean | number | string>;
  /** MOZ_LOG modules for debugging, e.g. 'jsep:5,mtransport:5,signaling:5'. */
  readonly mozLog?: string;
  /** Where MOZ_LOG writes (Firefox adds a suffix per process); default: inside the profile, removed by close(). */
  readonly mozLogFile?: string;
  /** Runs Firefox under this command line (e.g. netns.ts `wrap`: inside a network namespace). */
  readonly wrap?: (argv: readonly string[]) => string[];
}

export interface FirefoxProcess {
  readonly child: ChildProcess;
  /** stderr and stdout so far, for failure messages. */
  output(): string;
  /** Ends Firefox and every process in its group (SIGTERM, SIGKILL after `graceMs`), removes the profile; idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Starts `firefox-esr --headless` on a fresh profile, opening `url`. */
export async function launchFirefox(url: string, o: FirefoxOptions = {}): Promise<FirefoxProcess> {
  const home = await mkdtemp(join(tmpdir(), 'parley-firefox-'));
  const profile = join(home, 'profile');
  await mkdir(profile);
  await writeFile(join(profile, 'user.js'), userJs({ ...PREFS, ...o.prefs }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    MOZ_HEADLESS: '1',
    MOZ_CRASHREPORTER_DISABLE: '1',
    MOZ_DISABLE_AUTO_SAFE_MODE: '1',
  };
  if (o.mozLog) Object.assign(env, { MOZ_LOG: o.mozLog, MOZ_LOG_FILE: o.mozLogFile ?? join(home, 'moz.log') });
  // detached: its own process group, so one kill(-pid) reaches the content and socket processes.
  const [cmd, ...args] = (o.wrap ?? ((a) => [...a]))([FIREFOX, '--headless', '--no-remote', '--profile', profile, url]);
  const child = spawn(cmd, args, {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => {
    if (out.length < 64_000) out += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('error', (err) => (out += `spawn failed: ${err.message}\n`));
  // If this process ends without close() (a crash, Ctrl-C), do not leave a browser behind.
  const onExit = (): void => void signalGroup(child, 'SIGKILL');
  process.once('exit', onExit);
  let closing: Promise<void> | undefined;
  const close = (graceMs = 5_000): Promise<void> =>
    (closing ??= (async () => {
      process.off('exit', onExit);
      // Firefox's content, socket and utility processes share its group: wait for the whole
      // group, not only the main process, so nothing is still writing to the profile.
      signalGroup(child, 'SIGTERM');
      if (!(await groupGone(child, graceMs))) {
        signalGroup(child, 'SIGKILL');
        if (!(await groupGone(child, 2_000))) out += 'firefox: process group still alive after SIGKILL\n';
      }
      await rm(home, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    })());
  return { child, output: () => out, close };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false; // ESRCH: no process is left in the group.
  }
}

/** Polls until no process of the group is left (the main one reaped by Node), at most `ms`. */
async function groupGone(child: ChildProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const mainDone = child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
    if (mainDone && !signalGroup(child, 0)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Why a Firefox test cannot run here (no Firefox, or no non-loopback address for the relay), and the relay's address. */
export async function firefoxPrerequisites(): Promise<{ readonly hostIp?: string; readonly missing?: string }> {
  const hostIp = nonLoopbackIPv4();
  const missing = !(await firefoxAvailable())
    ? `Firefox not found at ${FIREFOX} (apt-get install firefox-esr, or set PARLEY_FIREFOX)`
    : hostIp === undefined
      ? 'no non-loopback IPv4 address for the relay (Firefox does not pair a 127.0.0.1 candidate with its host candidates)'
      : undefined;
  return { hostIp, missing };
}
