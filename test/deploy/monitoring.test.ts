// deploy/monitoring checked against the code: the metrics a relay and a transceiver really
// register (started in-process, their registries asked — not a hand list) are the only ones the
// Grafana dashboard and the alert rules may name, with label names those metrics carry and
// label values the code can produce; the ServiceMonitors select the Services that front each
// process's /metrics; the objects validate against the Prometheus Operator schemas; the
// kustomization renders (and, with kubectl, renders the same); thresholds that copy a setting
// agree with it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/common/log.ts';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { resolveRelayConfig, relaySettings } from '../../src/relay/config.ts';
import { startRelay } from '../../src/relay/relay.ts';
import type { Relay } from '../../src/relay/relay.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { KEYS_TEXT } from '../relay/helpers.ts';
import { TEST_MEDIA_IO } from '../transceiver/helpers/media-io.ts';
import type { KObject } from './kustomize.ts';
import { build, loadYamlObjects } from './kustomize.ts';
import {
  MONITORING,
  RENDERABLE,
  env,
  kubectlWithKustomize,
  ofKind,
  parleyCommand,
  portNumber,
  render,
  selects,
  template,
  validateObject,
} from './manifests.ts';

/** What a scrape can show for one metric name (histograms: _bucket, _sum, _count). */
interface Exported {
  labelNames: Set<string>;
  /** Label values seen on series at start-up, by label name (reasons are made up front). */
  values: Map<string, Set<string>>;
}

/** Labels Prometheus and the ServiceMonitors attach to every scraped series. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance', 'service', 'endpoint', 'container', 'parley_dev_location']);
/** The PromQL functions and aggregations deploy/monitoring uses (anything else is a mistake to look at). */
const FUNCTIONS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'increase', 'histogram_quantile', 'clamp_min', 'absent']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

let relay: Relay;
let trx: Transceiver;
const exported = new Map<string, Exported>();

function collect(reg: MetricsRegistry): void {
  const text = reg.render();
  for (const d of reg.definitions()) {
    const names = d.type === 'histogram' ? [`${d.name}_bucket`, `${d.name}_sum`, `${d.name}_count`] : [d.name];
    for (const n of names) {
      assert.ok(!exported.has(n), `${n} registered by two processes`);
      const labelNames = new Set(n.endsWith('_bucket') ? [...d.labelNames, 'le'] : d.labelNames);
      const values = new Map<string, Set<string>>();
      for (const m of text.matchAll(new RegExp(`^${n}\\{([^}]*)\\} `, 'gm')))
        for (const [, k, v] of m[1].matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
          if (!values.has(k)) values.set(k, new Set());
          values.get(k)!.add(v);
        }
      exported.set(n, { labelNames, values });
    }
  }
}

before(async () => {
  const cfg = resolveRelayConfig(['--workers', '1', '--listen', '127.0.0.1:0', '--internal', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    PARLEY_KEYS: KEYS_TEXT,
  });
  relay = await startRelay(cfg, createLogger({ component: 'monitoring-test', level: 'silent' }));
  const metrics = new MetricsRegistry();
  trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [{ address: '127.0.0.1', port: 3478, family: 'IPv4' }],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring: Keyring.generate(seededRng('monitoring-keys')),
    maxSessions: 1,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers: defaultHandlers(),
    rng: seededRng('monitoring'),
    mediaIo: TEST_MEDIA_IO,
    metrics,
  });
  collect(relay.metrics);
  collect(metrics);
});

after(async () => {
  await trx?.close();
  await relay?.stop();
});

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

/** The series selectors, function names and grouping labels of a PromQL expression (the subset
 *  deploy/monitoring writes: no subqueries, no @ modifiers). Throws on anything it cannot place. */
function parsePromQL(expr: string): { selectors: Selector[]; functions: string[]; grouping: string[] } {
  const grouping: string[] = [];
  let rest = expr.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, _kw, labels: string) => {
    grouping.push(
      ...labels
        .split(',')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    );
    return ' ';
  });
  const selectors: Selector[] = [];
  rest = rest.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_, metric: string | undefined, body: string) => {
    assert.ok(metric, `${expr}: a selector without a metric name`);
    const matchers: Selector['matchers'] = [];
    const left = body.replace(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g, (__, label: string, op: string, value: string) => {
      matchers.push({ label, op, value });
      return '';
    });
    assert.match(left, /^[\s,]*$/, `${expr}: matchers not understood: ${left}`);
    selectors.push({ metric, matchers });
    return ' SELECTOR ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ').replace(/\b\d+(\.\d+)?\b/g, ' ');
  const functions: string[] = [];
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, id, call] = m;
    if (id === 'SELECTOR' || KEYWORDS.has(id)) continue;
    if (call) functions.push(id);
    else selectors.push({ metric: id, matchers: [] });
  }
  assert.doesNotMatch(rest.replace(/[a-zA-Z_:][a-zA-Z0-9_:]*/g, ''), /["{}]/, `${expr}: left over after parsing`);
  return { selectors, functions, grouping };
}

const monitoring = build(MONITORING);
const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as {
  panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string }[] };
};
type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
const rules: Rule[] = ofKind(monitoring, 'PrometheusRule').flatMap((r) =>
  (r.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
);
/** The dashboard's queries and the alert expressions, each with where it is. */
const queries: [string, string][] = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t): [string, string] => [`panel "${p.title}"`, t.expr])),
  ...rules.map((r): [string, string] => [`alert ${r.alert}`, r.expr]),
];

/** Each ServiceMonitor's job label value: the jobLabel of the Services it selects. */
function jobs(): Set<string> {
  const services = [...ofKind(render('overlays/multi-region'), 'Service'), ...ofKind(monitoring, 'Service')];
  const out = new Set<string>();
  for (const sm of ofKind(monitoring, 'ServiceMonitor')) {
    const spec = sm.spec as { jobLabel: string; selector: { matchLabels: Record<string, string> } };
    for (const s of services) if (selects(spec.selector.matchLabels, s.metadata.labels ?? {})) out.add(s.metadata.labels![spec.jobLabel]);
  }
  return out;
}

test('the dashboard is valid JSON with a Prometheus datasource variable, and every panel has a query', () => {
  assert.ok(dashboard.panels.length > 5);
  assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
  const ids = new Set<number>();
  for (const p of dashboard.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} twice`);
    ids.add(p.id);
    if (p.type !== 'row') assert.ok((p.targets ?? []).length > 0, `panel ${p.id} has no query`);
  }
});

test('every dashboard query and alert expression names only metrics the relay and transceiver register, with their labels and label values', () => {
  assert.ok(exported.has('parley_relay_drops_total') && exported.has('parley_transceiver_sessions'), 'both registries were read');
  const jobValues = jobs();
  assert.deepEqual([...jobValues].sort(), ['relay-ops', 'transceiver-ops']);
  let checked = 0;
  for (const [where, expr] of queries) {
    const { selectors, functions, grouping } = parsePromQL(expr);
    assert.ok(selectors.length > 0, `${where}: no metric`);
    for (const f of functions) assert.ok(FUNCTIONS.has(f), `${where}: unexpected function or metric call ${f}`);
    const labelsInExpr = new Set(TARGET_LABELS);
    for (const s of selectors) {
      if (s.metric === 'up') {
        // Prometheus' own per-target series: only the target labels, and a job a ServiceMonitor makes.
        for (const m of s.matchers) {
          assert.ok(TARGET_LABELS.has(m.label), `${where}: up has no label ${m.label}`);
          if (m.label === 'job') assert.ok(jobValues.has(m.value), `${where}: no ServiceMonitor makes job ${m.value}`);
        }
        continue;
      }
      const e = exported.get(s.metric);
      assert.ok(e, `${where}: ${s.metric} is not a metric the code registers`);
      for (const l of e.labelNames) labelsInExpr.add(l);
      for (const m of s.matchers) {
        assert.ok(e.labelNames.has(m.label) || TARGET_LABELS.has(m.label), `${where}: ${s.metric} has no label ${m.label}`);
        const seen = e.values.get(m.label);
        if (m.op === '=' && seen) assert.ok(seen.has(m.value), `${where}: ${s.metric}{${m.label}="${m.value}"} is never produced`);
      }
      checked++;
    }
    for (const g of grouping) assert.ok(labelsInExpr.has(g), `${where}: groups by ${g}, a label none of its metrics has`);
  }
  assert.ok(checked >= queries.length, `${checked} selectors checked`);
});

test('the alerts cover flow-table fill, session capacity, drop rate by reason, relay location down and setup-time p95', () => {
  const names = rules.map((r) => r.alert!);
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  for (const r of rules) {
    assert.ok(r.alert && r.expr && r.for, `${r.alert}: alert, expr and for`);
    assert.ok(['warning', 'critical'].includes(r.labels?.severity ?? ''), `${r.alert}: severity`);
    assert.ok(r.annotations?.summary && r.annotations.description, `${r.alert}: summary and description`);
  }
  const uses = (needle: RegExp): Rule[] => rules.filter((r) => needle.test(r.expr));
  assert.ok(uses(/parley_relay_flows\b/).length > 0 && uses(/reason="table_full"/).length > 0, 'flow-table fill');
  assert.ok(uses(/parley_transceiver_sessions\b/).length > 0, 'session capacity');
  for (const m of ['parley_relay_drops_total', 'parley_transceiver_drops_total'])
    assert.ok(uses(new RegExp(`sum by \\([^)]*\\breason\\b[^)]*\\) \\(rate\\(${m}\\[`)).length > 0, `drop rate of ${m} by reason`);
  assert.ok(uses(/up\{job="relay-ops"\}/).length > 0 && uses(/none_live="1"/).length > 0, 'relay location down');
  assert.ok(uses(/histogram_quantile\(0\.95, .*parley_transceiver_call_setup_seconds_bucket/).length > 0, 'setup-time p95');
});

test('thresholds that copy a setting agree with it: 80 % of --max-flows, 80 % of the base PARLEY_MAX_SESSIONS', () => {
  const threshold = (alert: string): number => Number(/>\s*(\d+)\s*$/.exec(rules.find((r) => r.alert === alert)!.expr.trim())![1]);
  assert.equal(threshold('ParleyRelayFlowTableFilling'), 0.8 * relaySettings.maxFlows.default);
  for (const path of RENDERABLE)
    for (const d of ofKind(render(path), 'Deployment').filter((x) => parleyCommand(x) === 'relay'))
      assert.equal(env(template(d).spec.containers[0], 'PARLEY_MAX_FLOWS'), undefined, `${path}: relays keep the default --max-flows`);
  const tx = ofKind(render('overlays/single-region'), 'Deployment').find((d) => parleyCommand(d) === 'transceiver')!;
  assert.equal(
    threshold('ParleyTransceiverSessionsNearCapacity'),
    0.8 * Number(env(template(tx).spec.containers[0], 'PARLEY_MAX_SESSIONS')!.value),
  );
});

test('deploy/monitoring renders, validates against the Kubernetes and Prometheus Operator schemas, and the ServiceMonitors reach each /metrics', () => {
  for (const o of monitoring) {
    validateObject(o);
    assert.equal(o.metadata.namespace, 'parley');
  }
  for (const path of RENDERABLE) {
    const objs = [...render(path), ...monitoring];
    for (const sm of ofKind(monitoring, 'ServiceMonitor')) {
      const spec = sm.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
        podTargetLabels?: string[];
      };
      const services = ofKind(objs, 'Service').filter((s) => selects(spec.selector.matchLabels, s.metadata.labels ?? {}));
      assert.equal(services.length, 1, `${path}: ${sm.metadata.name} selects one Service`);
      const svc = services[0].spec as {
        type?: string;
        selector: Record<string, string>;
        ports: { name: string; targetPort: string | number }[];
      };
      assert.notEqual(svc.type, 'LoadBalancer', '/metrics is never behind a public address');
      const pods = ofKind(objs, 'Deployment').filter((d) => selects(svc.selector, template(d).metadata.labels));
      assert.ok(pods.length > 0, `${path}: ${sm.metadata.name}'s Service selects pods`);
      for (const ep of spec.endpoints) {
        assert.equal(ep.path, '/metrics');
        const port = svc.ports.find((p) => p.name === ep.port);
        assert.ok(port, `${path}: ${sm.metadata.name}: the Service has a port ${ep.port}`);
        for (const d of pods) {
          const c = template(d).spec.containers[0];
          // The transceiver's PARLEY_OPS (issue #19: never its public signaling port); a relay's PARLEY_HTTP is ops only.
          assert.equal(
            portNumber(c, port.targetPort),
            Number((env(c, 'PARLEY_OPS') ?? env(c, 'PARLEY_HTTP'))!.value!.split(':').pop()),
            `${d.metadata.name}: the ops port`,
          );
          for (const l of spec.podTargetLabels ?? []) assert.ok(template(d).metadata.labels[l], `${d.metadata.name}: pod label ${l}`);
        }
      }
    }
  }
});

const kubectl = kubectlWithKustomize();

test(
  '`kubectl kustomize deploy/monitoring` renders the same objects',
  { skip: kubectl ? false : 'kubectl with kustomize not available (optional)' },
  () => {
    const theirs = loadYamlObjects(
      execFileSync(kubectl, ['kustomize', MONITORING], { encoding: 'utf8', timeout: 60_000 }),
      'kubectl kustomize',
    );
    const byId = (objs: KObject[]): Map<string, KObject> => new Map(objs.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    assert.deepEqual(byId(monitoring), byId(theirs));
  },
);
