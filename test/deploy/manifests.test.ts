// deploy/k8s rendered per overlay (test/deploy/kustomize.ts) and checked offline: every object
// validates against the Kubernetes schemas, and the properties docs/deploy.md promises hold —
// one UDP port per relay LoadBalancer and one TCP 443 (ICE-TCP) per relay-tcp LoadBalancer, both with
// externalTrafficPolicy Local, probes, drain timing,
// network policy, security contexts, resources, scrape annotations, relay placement, public
// addresses and location names that agree, Redis for flows and heartbeats, routable call ids,
// settings the processes know, and no committed keys.
// Past 400 lines because every property is checked on every rendered overlay from one rendering;
// each test is short and they share the rendered objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KObject } from './kustomize.ts';
import { TRANSCEIVER_NODE_FLAGS } from '../../src/transceiver/node-flags.ts';
import type { Container } from './manifests.ts';
import {
  K8S,
  OPERATOR_FILES,
  OVERLAYS,
  REPO,
  RENDERABLE,
  env,
  expandEnv,
  ofKind,
  parleyCommand,
  portNumber,
  preStopSleep,
  render,
  selects,
  template,
  validateObject,
  cpuCores,
  memoryBytes,
} from './manifests.ts';

/** The relay locations of each rendered kustomization (a provider variant is single-region). */
const locationsOf = (path: string): string[] => (path === 'overlays/multi-region' ? ['eu', 'us'] : ['main']);
/** Kustomizations sized for one node: no one-relay-per-node anti-affinity. */
const ONE_NODE = new Set(['overlays/small']);
/** The relay's SIGTERM path: stop reading, flush flow-store writes (bounded to 2 s), exit. */
const RELAY_STOP_SECONDS = 2;

const rendered = new Map(RENDERABLE.map((o) => [o, render(o)]));
const deployments = (objs: KObject[], cmd: string): KObject[] => ofKind(objs, 'Deployment').filter((d) => parleyCommand(d) === cmd);
const only = <T>(xs: T[], what: string): T => {
  assert.equal(xs.length, 1, `exactly one ${what}`);
  return xs[0];
};
const httpPort = (c: Container): number => Number(env(c, 'PARLEY_HTTP')!.value!.split(':').pop());
/** /metrics /healthz /readyz: the transceiver's PARLEY_OPS (never its public signaling port); a relay's PARLEY_HTTP is ops only. */
const opsPort = (c: Container): number => Number((env(c, 'PARLEY_OPS') ?? env(c, 'PARLEY_HTTP'))!.value!.split(':').pop());
/** A variable's value as the process sees it, after Kubernetes' $(VAR) expansion. */
const expanded = (c: Container, name: string): string | undefined => expandEnv(c).values.get(name);
const loadBalancers = (objs: KObject[]): KObject[] =>
  ofKind(objs, 'Service').filter((s) => (s.spec as { type?: string }).type === 'LoadBalancer');
type LbPort = { port: number; protocol?: string; targetPort?: number | string };
const lbPorts = (s: KObject): LbPort[] => (s.spec as { ports: LbPort[] }).ports;
/** The relay's ICE-TCP LoadBalancers (issue #17): every port TCP; a Service of its own, as clouds forbid mixed protocols. */
const tcpLoadBalancers = (objs: KObject[]): KObject[] => loadBalancers(objs).filter((s) => lbPorts(s).every((p) => p.protocol === 'TCP'));
const udpLoadBalancers = (objs: KObject[]): KObject[] => loadBalancers(objs).filter((s) => !tcpLoadBalancers([s]).length);
/** PARLEY_RELAYS as location → addresses ('' for an unnamed list). */
function relayLocations(spec: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of spec.split(';')) {
    const [name, list] = part.includes('=') ? part.split('=') : ['', part];
    assert.ok(!out.has(name), `location ${name} named twice`);
    out.set(name, list.split(','));
  }
  return out;
}
type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown; ipBlock?: unknown };
type Rule = { from?: Peer[]; ports?: { protocol?: string; port?: number; endPort?: number }[] };
/** The ingress rules of the one NetworkPolicy that selects pods with these labels. */
function policyFor(objs: KObject[], labels: Record<string, string>, what: string): Rule[] {
  const policies = ofKind(objs, 'NetworkPolicy').filter((p) =>
    selects((p.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels, labels),
  );
  const spec = only(policies, `NetworkPolicy selecting ${what}`).spec as { policyTypes: string[]; ingress: Rule[] };
  assert.ok(spec.policyTypes.includes('Ingress'));
  return spec.ingress;
}
/** Whether a rule lets pods with these labels in on this port. */
function admits(r: Rule, labels: Record<string, string>, protocol: string, port: number): boolean {
  const portOk =
    !r.ports ||
    r.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || (p.port <= port && port <= (p.endPort ?? p.port))));
  const fromOk =
    !r.from ||
    r.from.some((p) => Object.keys(p).length === 1 && p.podSelector !== undefined && selects(p.podSelector.matchLabels ?? {}, labels));
  return portOk && fromOk;
}

for (const [overlay, objs] of rendered) {
  test(`${overlay}: every rendered object validates against the Kubernetes schema, with no unknown fields`, () => {
    assert.ok(objs.length > 10);
    for (const o of objs) validateObject(o);
    for (const o of objs) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'parley', `${o.kind} ${o.metadata.name}`);
  });

  test(`${overlay}: one relay Deployment, LoadBalancer Service and PDB per location`, () => {
    const relays = deployments(objs, 'relay');
    assert.deepEqual(relays.map((d) => template(d).metadata.labels['parley.dev/location']).sort(), [...locationsOf(overlay)].sort());
    const lbs = udpLoadBalancers(objs);
    assert.equal(lbs.length, relays.length, 'one UDP LoadBalancer per relay location, and no other');
    assert.equal(tcpLoadBalancers(objs).length, relays.length, 'one ICE-TCP LoadBalancer per relay location, and no other');
    assert.equal(loadBalancers(objs).length, 2 * relays.length, 'no LoadBalancer but these');
    for (const d of relays) {
      const labels = template(d).metadata.labels;
      const selector = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      assert.ok(selects(selector, labels), `${d.metadata.name}: selector matches its own template`);
      for (const other of relays)
        if (other !== d)
          assert.ok(
            !selects(selector, template(other).metadata.labels),
            `${d.metadata.name} must not select ${other.metadata.name}'s pods`,
          );
      const lb = only(
        lbs.filter((s) => selects((s.spec as { selector: Record<string, string> }).selector, labels)),
        `LoadBalancer for ${d.metadata.name}`,
      );
      const tcpLb = only(
        tcpLoadBalancers(objs).filter((s) => selects((s.spec as { selector: Record<string, string> }).selector, labels)),
        `ICE-TCP LoadBalancer for ${d.metadata.name}`,
      );
      for (const other of relays)
        if (other !== d)
          for (const x of [lb, tcpLb])
            assert.ok(!selects((x.spec as { selector: Record<string, string> }).selector, template(other).metadata.labels));
      only(
        ofKind(objs, 'PodDisruptionBudget').filter((p) =>
          selects((p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, labels),
        ),
        `PDB for ${d.metadata.name}`,
      );
    }
  });

  test(`${overlay}: each relay LoadBalancer has exactly one port, UDP 3478 to the relay's media port, and externalTrafficPolicy Local`, () => {
    for (const s of udpLoadBalancers(objs)) {
      const spec = s.spec as {
        externalTrafficPolicy?: string;
        ports: { port: number; protocol?: string; targetPort?: number | string }[];
        selector: Record<string, string>;
      };
      assert.equal(spec.externalTrafficPolicy, 'Local', s.metadata.name);
      assert.equal(spec.ports.length, 1, `${s.metadata.name}: one port`);
      assert.equal(spec.ports[0].protocol, 'UDP');
      assert.equal(spec.ports[0].port, 3478);
      const relay = only(
        deployments(objs, 'relay').filter((d) => selects(spec.selector, template(d).metadata.labels)),
        'relay behind the Service',
      );
      const c = template(relay).spec.containers[0];
      assert.equal(portNumber(c, spec.ports[0].targetPort ?? 3478), 3478);
      const lb = (s.spec as { loadBalancerIP?: string }).loadBalancerIP;
      assert.equal(
        expanded(c, 'PARLEY_LISTEN'),
        `$(POD_IP):3478=${lb}:3478`,
        `${relay.metadata.name}: flow records keyed by the LoadBalancer address clients send to`,
      );
    }
  });

  test(`${overlay}: each ICE-TCP LoadBalancer has one port, TCP 443 to the relay's 3443, externalTrafficPolicy Local, and the NetworkPolicy admits it`, () => {
    for (const s of tcpLoadBalancers(objs)) {
      const spec = s.spec as { externalTrafficPolicy?: string; selector: Record<string, string>; loadBalancerIP?: string };
      assert.equal(spec.externalTrafficPolicy, 'Local', `${s.metadata.name}: the relay's per-IP caps need the client's address`);
      const ports = lbPorts(s);
      assert.equal(ports.length, 1, `${s.metadata.name}: one port`);
      assert.equal(ports[0].port, 443);
      const relay = only(
        deployments(objs, 'relay').filter((d) => selects(spec.selector, template(d).metadata.labels)),
        'relay behind the ICE-TCP Service',
      );
      const c = template(relay).spec.containers[0];
      assert.equal(portNumber(c, ports[0].targetPort ?? 443), 3443);
      assert.equal(
        expanded(c, 'PARLEY_LISTEN_TCP'),
        `$(POD_IP):3443=${spec.loadBalancerIP}:443`,
        `${relay.metadata.name}: the relay listens on 3443 and its header carries the TCP LoadBalancer address`,
      );
      const rules = policyFor(objs, template(relay).metadata.labels, `${relay.metadata.name} pods`);
      assert.ok(
        rules.some((r) => !r.from && admits(r, template(relay).metadata.labels, 'TCP', 3443)),
        `${relay.metadata.name}: ICE-TCP (TCP 3443) admitted from anywhere`,
      );
    }
  });

  test(`${overlay}: relay and transceiver bind (and advertise to each other) the pod IP from the downward API`, () => {
    const checks: [string, string, RegExp][] = [
      ['relay', 'PARLEY_LISTEN', /^\$\(POD_IP\):3478=/],
      ['relay', 'PARLEY_INTERNAL', /^\$\(POD_IP\):3479$/],
      ['transceiver', 'PARLEY_MEDIA', /^\$\(POD_IP\):7000$/],
      ['transceiver', 'PARLEY_HTTP_ADVERTISE', /^\$\(POD_IP\):8080$/],
    ];
    for (const [cmd, name, value] of checks) {
      for (const d of deployments(objs, cmd)) {
        const c = template(d).spec.containers[0];
        const vars = c.env!.map((e) => e.name);
        assert.match(env(c, name)?.value ?? '', value, `${d.metadata.name} ${name}`);
        assert.match(expanded(c, name) ?? '', value, `${d.metadata.name} ${name}, expanded`);
        assert.equal(env(c, 'POD_IP')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
        assert.ok(vars.indexOf('POD_IP') < vars.indexOf(name), `${name}: $(POD_IP) expands only if POD_IP is defined earlier`);
      }
    }
    for (const d of deployments(objs, 'transceiver')) {
      const c = template(d).spec.containers[0];
      assert.equal(
        Number(expanded(c, 'PARLEY_HTTP_ADVERTISE')!.split(':').pop()),
        httpPort(c),
        "call requests are forwarded to the owner's HTTP port",
      );
    }
  });

  test(`${overlay}: every $(VAR) in a container's environment refers to a variable defined earlier; helper variables are used`, () => {
    for (const d of ofKind(objs, 'Deployment')) {
      for (const c of template(d).spec.containers) {
        const { unresolved } = expandEnv(c);
        assert.deepEqual(
          unresolved,
          [],
          `${d.metadata.name}: these would reach the process literally (kustomize moves patched entries to the front)`,
        );
        for (const e of c.env ?? []) {
          // NODE_OPTIONS is read by node itself (the transceiver's, src/transceiver/node-flags.ts).
          if (e.name.startsWith('PARLEY_') || e.name === 'NODE_OPTIONS') continue;
          assert.ok(
            c.env!.some((x) => x.value?.includes(`$(${e.name})`)),
            `${d.metadata.name}: ${e.name} is not a Parley setting and nothing refers to it`,
          );
        }
      }
    }
  });

  test(`${overlay}: every Parley Deployment has liveness /healthz and readiness /readyz on its ops port`, () => {
    const parley = ofKind(objs, 'Deployment').filter((d) => parleyCommand(d) !== undefined);
    assert.equal(parley.length, locationsOf(overlay).length + 1);
    for (const d of parley) {
      const c = template(d).spec.containers[0];
      assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', d.metadata.name);
      assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', d.metadata.name);
      assert.equal(portNumber(c, c.livenessProbe!.httpGet!.port), opsPort(c));
      assert.equal(portNumber(c, c.readinessProbe!.httpGet!.port), opsPort(c));
      assert.match((env(c, 'PARLEY_OPS') ?? env(c, 'PARLEY_HTTP'))!.value!, /^0\.0\.0\.0:/, 'the kubelet probes the pod IP');
      if (parleyCommand(d) === 'transceiver') assert.notEqual(opsPort(c), httpPort(c), 'ops is not the public signaling port');
    }
    for (const d of ofKind(objs, 'Deployment')) {
      const c = template(d).spec.containers[0];
      assert.ok(c.livenessProbe && c.readinessProbe, `${d.metadata.name}: probes`);
    }
  });

  test(`${overlay}: termination grace exceeds preStop sleep + drain (transceiver) or + store flush (relay)`, () => {
    for (const d of deployments(objs, 'transceiver')) {
      const spec = template(d).spec;
      const c = spec.containers[0];
      const drain = Number(env(c, 'PARLEY_DRAIN_SECONDS')!.value);
      const sleep = preStopSleep(c);
      assert.ok(drain >= 60, 'calls get at least a minute to end on their own');
      assert.ok(sleep > 0, 'preStop lets endpoints drop the pod before it refuses offers');
      assert.ok(spec.terminationGracePeriodSeconds! > drain + sleep, `grace ${spec.terminationGracePeriodSeconds} > ${sleep} + ${drain}`);
      assert.ok(spec.terminationGracePeriodSeconds! <= drain + sleep + 60, 'but not an unbounded wait');
    }
    for (const d of deployments(objs, 'relay')) {
      const spec = template(d).spec;
      const sleep = preStopSleep(spec.containers[0]);
      assert.ok(sleep >= 10, 'preStop lets the load balancer health check move new clients away');
      assert.ok(spec.terminationGracePeriodSeconds! > sleep + RELAY_STOP_SECONDS, d.metadata.name);
    }
  });

  test(`${overlay}: the NetworkPolicy lets only relay pods reach the transceivers' UDP media port`, () => {
    const tx = only(deployments(objs, 'transceiver'), 'transceiver');
    const txLabels = template(tx).metadata.labels;
    const mediaPort = Number(env(template(tx).spec.containers[0], 'PARLEY_MEDIA')!.value!.split(':').pop());
    const relayLabels = deployments(objs, 'relay').map((d) => template(d).metadata.labels);
    const spec = { ingress: policyFor(objs, txLabels, 'transceiver pods') };
    const coversMedia = (r: Rule): boolean =>
      !r.ports ||
      r.ports.some(
        (p) => (p.protocol ?? 'TCP') === 'UDP' && (p.port === undefined || (p.port <= mediaPort && mediaPort <= (p.endPort ?? p.port))),
      );
    const mediaRules = spec.ingress.filter(coversMedia);
    assert.equal(mediaRules.length, 1, 'one rule opens the media port');
    const from = mediaRules[0].from ?? [];
    assert.ok(from.length > 0, 'the media rule names its sources');
    for (const peer of from) {
      assert.deepEqual(Object.keys(peer), ['podSelector'], 'sources are pods of this namespace, by label only');
      const sel = peer.podSelector!.matchLabels!;
      assert.ok(!selects(sel, txLabels), 'transceivers are not a source');
      assert.equal(sel['app.kubernetes.io/component'], 'relay', 'sources are relay pods');
    }
    for (const l of relayLabels)
      assert.ok(
        from.some((p) => selects(p.podSelector!.matchLabels!, l)),
        'every relay location may send',
      );
    const http = httpPort(template(tx).spec.containers[0]);
    assert.ok(
      spec.ingress.some((r) => !r.from && r.ports?.some((p) => p.protocol === 'TCP' && p.port === http)),
      'signaling open to the ingress controller (any source)',
    );
    assert.ok(
      spec.ingress.some((r) => admits(r, txLabels, 'TCP', http)),
      "transceivers reach each other's HTTP port (call requests forwarded to the owner)",
    );
  });

  test(`${overlay}: /metrics is never public: relay ops ports admit only cluster pods, no LoadBalancer reaches an ops port, the Ingress routes only the call API`, () => {
    for (const d of deployments(objs, 'relay')) {
      const c = template(d).spec.containers[0];
      const ops = httpPort(c);
      const rules = policyFor(objs, template(d).metadata.labels, `${d.metadata.name} pods`).filter(
        (r) => !r.ports || r.ports.some((p) => (p.protocol ?? 'TCP') === 'TCP' && p.port === ops),
      );
      assert.ok(rules.length > 0, 'the ops port is admitted (Prometheus)');
      for (const r of rules) {
        assert.ok(r.from && r.from.length > 0, `${d.metadata.name}: the ops port names its sources`);
        for (const peer of r.from) assert.equal(peer.ipBlock, undefined, 'pods only, no address blocks');
      }
    }
    for (const s of loadBalancers(objs))
      for (const p of lbPorts(s)) {
        if (p.protocol === 'UDP') continue;
        // TCP only for ICE-TCP: the relay's 3443, never its ops port.
        assert.equal(p.protocol, 'TCP', s.metadata.name);
        for (const d of deployments(objs, 'relay').filter((x) =>
          selects((s.spec as { selector: Record<string, string> }).selector, template(x).metadata.labels),
        )) {
          const c = template(d).spec.containers[0];
          assert.equal(portNumber(c, p.targetPort ?? p.port), 3443, `${s.metadata.name}: TCP reaches ICE-TCP only`);
          assert.notEqual(portNumber(c, p.targetPort ?? p.port), httpPort(c));
        }
      }
    for (const ing of ofKind(objs, 'Ingress'))
      for (const rule of (ing.spec as { rules: { http: { paths: { path: string }[] } }[] }).rules)
        for (const p of rule.http.paths) assert.equal(p.path, '/v1/realtime/calls', `${ing.metadata.name}: only the call API is public`);
  });

  test(`${overlay}: the Redis NetworkPolicy admits relays (flows, heartbeats) and transceivers (heartbeat reads), and no one else`, () => {
    const redis = only(
      ofKind(objs, 'Deployment').filter((d) => template(d).spec.containers[0].image.startsWith('redis:')),
      'Redis Deployment',
    );
    const port = template(redis).spec.containers[0].ports![0].containerPort;
    const rules = policyFor(objs, template(redis).metadata.labels, 'Redis pods');
    for (const cmd of ['relay', 'transceiver']) {
      for (const d of deployments(objs, cmd))
        assert.ok(
          rules.some((r) => admits(r, template(d).metadata.labels, 'TCP', port)),
          `${d.metadata.name} may connect to Redis`,
        );
    }
    for (const r of rules) {
      assert.ok(r.from && r.from.length > 0, 'every rule names its sources');
      for (const peer of r.from) {
        assert.deepEqual(Object.keys(peer), ['podSelector'], 'sources are pods of this namespace, by label only');
        const sel = peer.podSelector!.matchLabels!;
        assert.equal(sel['app.kubernetes.io/name'], 'parley');
        assert.ok(
          ['relay', 'transceiver'].includes(sel['app.kubernetes.io/component']),
          `only relays and transceivers, not ${JSON.stringify(sel)}`,
        );
      }
    }
  });

  test(`${overlay}: every container runs non-root, read-only, without capabilities or privilege escalation, under RuntimeDefault seccomp`, () => {
    for (const d of ofKind(objs, 'Deployment')) {
      const spec = template(d).spec;
      for (const c of spec.containers) {
        const sc = c.securityContext ?? {};
        const pod = spec.securityContext ?? {};
        const where = `${d.metadata.name}/${c.name}`;
        assert.equal(sc.runAsNonRoot ?? pod.runAsNonRoot, true, where);
        assert.notEqual(sc.runAsUser ?? pod.runAsUser, 0, where);
        assert.equal(sc.readOnlyRootFilesystem, true, where);
        assert.equal(sc.allowPrivilegeEscalation, false, where);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], where);
        assert.equal(sc.capabilities?.add, undefined, where);
        assert.equal((sc.seccompProfile ?? pod.seccompProfile)?.type, 'RuntimeDefault', where);
        assert.notEqual(sc.privileged, true, where);
      }
      assert.equal((template(d).spec as unknown as { hostNetwork?: boolean }).hostNetwork, undefined);
    }
  });

  test(`${overlay}: resource requests everywhere; memory limits; no CPU limit on the latency-critical processes`, () => {
    for (const d of ofKind(objs, 'Deployment')) {
      for (const c of template(d).spec.containers) {
        assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${d.metadata.name}: requests`);
        assert.ok(c.resources.limits?.memory, `${d.metadata.name}: memory limit`);
        if (parleyCommand(d)) assert.equal(c.resources.limits?.cpu, undefined, `${d.metadata.name}: CFS throttling would add jitter`);
      }
    }
    for (const d of deployments(objs, 'relay')) {
      const c = template(d).spec.containers[0];
      const cores = cpuCores(c.resources!.requests!.cpu);
      assert.equal(Number(env(c, 'PARLEY_WORKERS')!.value), Math.max(1, Math.floor(cores)), 'one worker per requested core (one for less)');
    }
  });

  test(`${overlay}: Prometheus scrape annotations point at each process's /metrics`, () => {
    for (const d of ofKind(objs, 'Deployment').filter((x) => parleyCommand(x))) {
      const a = template(d).metadata.annotations ?? {};
      const c = template(d).spec.containers[0];
      assert.equal(a['prometheus.io/scrape'], 'true', d.metadata.name);
      assert.equal(a['prometheus.io/path'], '/metrics');
      assert.equal(Number(a['prometheus.io/port']), opsPort(c));
    }
  });

  test(`${overlay}: relays spread one per node (required anti-affinity, except on one node) and over zones`, () => {
    for (const d of deployments(objs, 'relay')) {
      const spec = template(d).spec;
      const anti = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      if (ONE_NODE.has(overlay)) {
        assert.equal(spec.affinity, undefined, 'one node: a rolling update starts the new relay beside the old one');
        assert.equal((d.spec as { replicas?: number }).replicas, 1);
        continue;
      }
      assert.ok(
        anti.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selects(t.labelSelector.matchLabels, template(d).metadata.labels)),
        d.metadata.name,
      );
      assert.ok(
        spec.topologySpreadConstraints?.some(
          (t) => t.topologyKey === 'topology.kubernetes.io/zone' && selects(t.labelSelector.matchLabels, template(d).metadata.labels),
        ),
      );
    }
  });

  test(`${overlay}: the transceivers advertise exactly the relay LoadBalancer addresses, by location`, () => {
    const tx = template(only(deployments(objs, 'transceiver'), 'transceiver')).spec.containers[0];
    const locations = relayLocations(env(tx, 'PARLEY_RELAYS')!.value!);
    assert.ok(!locations.has(''), 'named locations (an unnamed list consults no heartbeats)');
    const advertised = new Map<string, string>(); // address → location
    for (const [name, list] of locations) for (const a of list) advertised.set(a, name);
    const lbs = new Map<string, string>();
    for (const s of udpLoadBalancers(objs)) {
      const ip = (s.spec as { loadBalancerIP?: string }).loadBalancerIP;
      assert.ok(ip, `${s.metadata.name}: a reserved address`);
      assert.notEqual(ip, '192.0.2.1', 'the overlay replaces the base placeholder');
      lbs.set(`${ip}:3478`, s.metadata.labels!['parley.dev/location']);
    }
    assert.deepEqual([...advertised.keys()].sort(), [...lbs.keys()].sort());
    for (const [a, loc] of advertised) assert.equal(loc, lbs.get(a), `${a} is named after its relay's location`);
    assert.deepEqual([...locations.keys()].sort(), [...locationsOf(overlay)].sort());
    assert.ok(locations.has(env(tx, 'PARLEY_REGION')!.value!), 'PARLEY_REGION names one of the locations');
    // ICE-TCP: the same locations, each at its TCP LoadBalancer's address on 443.
    const tcp = relayLocations(env(tx, 'PARLEY_RELAYS_TCP')!.value!);
    const tcpLbs = new Map<string, string>();
    for (const s of tcpLoadBalancers(objs)) {
      const ip = (s.spec as { loadBalancerIP?: string }).loadBalancerIP;
      assert.ok(ip && ip !== '192.0.2.1', `${s.metadata.name}: the overlay replaces the base placeholder`);
      tcpLbs.set(s.metadata.labels!['parley.dev/location'], `${ip}:443`);
    }
    assert.deepEqual([...tcp.keys()].sort(), [...locations.keys()].sort(), 'PARLEY_RELAYS_TCP names the PARLEY_RELAYS locations');
    for (const [name, list] of tcp) assert.deepEqual(list, [tcpLbs.get(name)], `${name}: its ICE-TCP LoadBalancer address`);
    const cidrs = new Set([
      env(tx, 'PARLEY_RELAY_CIDRS')!.value,
      ...deployments(objs, 'relay').map((d) => env(template(d).spec.containers[0], 'PARLEY_TRANSCEIVER_CIDRS')!.value),
    ]);
    assert.equal(cidrs.size, 1, 'relays and transceivers agree on the pod network');
  });

  test(`${overlay}: the signaling API keys are required, from a generated Secret`, () => {
    const secret = only(
      ofKind(objs, 'Secret').filter((s) => s.metadata.name.startsWith('parley-api-keys-')),
      'API keys Secret',
    );
    assert.deepEqual(Object.keys(secret.data as object), ['PARLEY_API_KEYS']);
    for (const d of deployments(objs, 'transceiver')) {
      const ref = env(template(d).spec.containers[0], 'PARLEY_API_KEYS')?.valueFrom?.secretKeyRef;
      assert.equal(ref?.name, secret.metadata.name, d.metadata.name);
      assert.notEqual(ref?.optional, true, 'not optional: a missing Secret keeps the pod from starting instead of opening the API');
    }
  });

  test(`${overlay}: keys come from the generated Secret`, () => {
    const secrets = ofKind(objs, 'Secret');
    const keys = only(
      secrets.filter((s) => s.metadata.name.startsWith('parley-keys-')),
      'keys Secret',
    );
    assert.deepEqual(Object.keys(keys.data as object), ['PARLEY_KEYS']);
    for (const d of ofKind(objs, 'Deployment').filter((x) => parleyCommand(x))) {
      const c = template(d).spec.containers[0];
      assert.equal(env(c, 'PARLEY_KEYS')?.valueFrom?.secretKeyRef?.name, keys.metadata.name, d.metadata.name);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !ref.optional)
          assert.ok(
            secrets.some((s) => s.metadata.name === ref.name),
            `${e.name}: Secret ${ref.name} is rendered`,
          );
      }
    }
  });

  test(`${overlay}: relays and transceivers use the Redis Service, with the same heartbeat prefix`, () => {
    const redis = only(
      ofKind(objs, 'Service').filter((s) => s.metadata.name === 'redis'),
      'redis Service',
    );
    const redisPort = (redis.spec as { ports: { port: number }[] }).ports[0].port;
    const redisPods = only(
      ofKind(objs, 'Deployment').filter((d) =>
        selects((redis.spec as { selector: Record<string, string> }).selector, template(d).metadata.labels),
      ),
      'Deployment behind the redis Service',
    );
    assert.equal(parleyCommand(redisPods), undefined, 'the Service selects Redis, not a Parley process');
    const prefixes = new Set<string>();
    for (const cmd of ['relay', 'transceiver']) {
      for (const d of deployments(objs, cmd)) {
        const c = template(d).spec.containers[0];
        assert.equal(expanded(c, 'PARLEY_REDIS'), `redis://redis:${redisPort}`, `${d.metadata.name}: PARLEY_REDIS`);
        prefixes.add(expanded(c, 'PARLEY_HEARTBEAT_PREFIX') ?? 'default');
      }
    }
    assert.equal(prefixes.size, 1, 'transceivers read the heartbeats under the prefix the relays write');
    const flowPrefixes = deployments(objs, 'relay').map((d) => expanded(template(d).spec.containers[0], 'PARLEY_REDIS_PREFIX')!);
    assert.equal(new Set(flowPrefixes).size, flowPrefixes.length, 'one flow-record prefix per location: each bulk-loads its own');
    const args = template(redisPods).spec.containers[0].args ?? [];
    const policy = args[args.indexOf('--maxmemory-policy') + 1];
    assert.ok(
      args.includes('--maxmemory-policy') && policy !== 'volatile-ttl',
      `${policy}: heartbeats (3 s TTL) must not be the first keys evicted`,
    );
  });

  test(`${overlay}: each relay location announces the name the transceivers use for its LoadBalancer address`, () => {
    const tx = template(only(deployments(objs, 'transceiver'), 'transceiver')).spec.containers[0];
    const locations = relayLocations(env(tx, 'PARLEY_RELAYS')!.value!);
    const seen = new Set<string>();
    for (const d of deployments(objs, 'relay')) {
      const c = template(d).spec.containers[0];
      const name = expanded(c, 'PARLEY_LOCATION');
      assert.ok(name, `${d.metadata.name}: PARLEY_LOCATION (the default, "default", is in no PARLEY_RELAYS)`);
      assert.equal(name, template(d).metadata.labels['parley.dev/location'], `${d.metadata.name}: heartbeat location = location label`);
      assert.ok(!seen.has(name), `${name}: one relay Deployment per location`);
      seen.add(name);
      assert.ok(locations.has(name), `${d.metadata.name}: heartbeats as ${name}, a location the transceivers advertise`);
      const lb = only(
        udpLoadBalancers(objs).filter((s) =>
          selects((s.spec as { selector: Record<string, string> }).selector, template(d).metadata.labels),
        ),
        `LoadBalancer of ${d.metadata.name}`,
      );
      const address = `${(lb.spec as { loadBalancerIP: string }).loadBalancerIP}:3478`;
      assert.deepEqual(locations.get(name), [address], `${name}: PARLEY_RELAYS names the location's LoadBalancer address`);
      assert.equal(
        expanded(c, 'PARLEY_LISTEN')!.split('=')[1],
        address,
        `${d.metadata.name}: PARLEY_LISTEN's public part is the location's LoadBalancer address`,
      );
    }
    assert.deepEqual([...seen].sort(), [...locations.keys()].sort(), 'every advertised location has relays that send heartbeats');
  });
}

test('every PARLEY_* variable the manifests set is one the process documents in --help', () => {
  const help = (cmd: string): string => execFileSync(process.execPath, [join(REPO, 'bin/parley.ts'), cmd, '--help'], { encoding: 'utf8' });
  const helps = { relay: help('relay'), transceiver: help('transceiver') };
  for (const objs of rendered.values()) {
    for (const d of ofKind(objs, 'Deployment')) {
      const cmd = parleyCommand(d) as keyof typeof helps | undefined;
      if (!cmd) continue;
      for (const e of template(d).spec.containers[0].env ?? []) {
        if (!e.name.startsWith('PARLEY_')) continue;
        assert.ok(new RegExp(`\\b${e.name}\\b`).test(helps[cmd]), `parley ${cmd} does not know ${e.name}`);
      }
    }
  }
});

test('no routing-token key is committed under deploy/: keys.txt is git-ignored and no file holds a keyring', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else files.push(join(dir, e.name));
    }
  };
  walk(join(REPO, 'deploy'));
  const keyring = /\b\d{1,3}:[A-Za-z0-9+/]{40,}={0,2}/;
  for (const f of files) {
    const rel = relative(REPO, f);
    if (Object.hasOwn(OPERATOR_FILES, f.split('/').pop()!)) continue; // an operator's own file, checked to be ignored below
    assert.doesNotMatch(readFileSync(f, 'utf8'), keyring, `${rel} holds something that looks like a keyring`);
    if (f.endsWith('.yaml'))
      assert.doesNotMatch(readFileSync(f, 'utf8'), /^kind:\s*Secret\b/m, `${rel}: Secrets are generated, never committed`);
  }
  for (const o of OVERLAYS) {
    for (const f of Object.keys(OPERATOR_FILES)) {
      const p = `deploy/k8s/overlays/${o}/${f}`;
      assert.equal(execFileSync('git', ['check-ignore', p], { cwd: REPO, encoding: 'utf8' }).trim(), p, `${p} is git-ignored`);
    }
  }
  const tracked = execFileSync('git', ['ls-files', 'deploy'], { cwd: REPO, encoding: 'utf8' });
  assert.doesNotMatch(tracked, /keys\.txt/);
  assert.ok(K8S.startsWith(REPO));
});

/** Allocatable CPU of a 2-vCPU node after the kubelet's reservations (GKE e2-standard-2, EKS
 *  t3.medium and AKS Standard_B2s each report ~1.9), less ~0.4 for the node's own pods
 *  (kube-proxy, CNI, DNS, metrics agent): what Parley may request on it. */
const SMALL_NODE_CPU = 1.5;
/** Memory Parley may request on a 2-vCPU node: 4 GiB nodes allocate ~2.7 GiB, less system pods. */
const SMALL_NODE_MEMORY = 2 * 1024 ** 3;

test('small: every pod, with the surge pods of a rolling update beside the old ones, fits on one 2-vCPU node, Redis included', () => {
  const objs = rendered.get('overlays/small')!;
  let cpu = 0;
  let memory = 0;
  const parts: string[] = [];
  for (const d of ofKind(objs, 'Deployment')) {
    const spec = d.spec as { replicas?: number; strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string } } };
    const replicas = spec.replicas ?? 1;
    const surgeSpec = spec.strategy?.type === 'Recreate' ? 0 : (spec.strategy?.rollingUpdate?.maxSurge ?? '25%');
    // Kubernetes rounds a percentage surge up.
    const surge = typeof surgeSpec === 'number' ? surgeSpec : Math.ceil((replicas * parseInt(surgeSpec, 10)) / 100);
    const pods = replicas + surge;
    for (const c of template(d).spec.containers) {
      cpu += pods * cpuCores(c.resources!.requests!.cpu);
      memory += pods * memoryBytes(c.resources!.requests!.memory);
    }
    parts.push(`${d.metadata.name} ${pods} pod(s)`);
  }
  assert.ok(
    parts.some((p) => p.startsWith('redis')),
    'Redis is counted',
  );
  assert.ok(cpu <= SMALL_NODE_CPU, `requests ${cpu.toFixed(2)} CPU (${parts.join(', ')}) > ${SMALL_NODE_CPU}`);
  assert.ok(memory <= SMALL_NODE_MEMORY, `requests ${(memory / 1024 ** 2).toFixed(0)} MiB > ${SMALL_NODE_MEMORY / 1024 ** 2}`);
  const tx = template(only(deployments(objs, 'transceiver'), 'transceiver')).spec.containers[0];
  assert.ok(
    Number(env(tx, 'PARLEY_MAX_SESSIONS')!.value) <= 600 * cpuCores(tx.resources!.requests!.cpu),
    'at most ~600 calls per requested core',
  );
});

test("every transceiver runs with Parley's Node flags (NODE_OPTIONS), as parley dev and the benchmarks start it", () => {
  for (const [path, objs] of rendered) {
    for (const d of deployments(objs, 'transceiver')) {
      const c = template(d).spec.containers[0];
      assert.equal(expanded(c, 'NODE_OPTIONS'), TRANSCEIVER_NODE_FLAGS.join(' '), `${path}: ${d.metadata.name}'s NODE_OPTIONS`);
    }
  }
});
