// Helpers for the deploy tests: render an overlay of deploy/k8s with the kustomize subset,
// validate objects against the Kubernetes schemas of kubernetes-models, and read pod specs.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { KObject } from './kustomize.ts';
import { build } from './kustomize.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const K8S = join(REPO, 'deploy/k8s');
/** The overlays an operator applies (deploy/k8s/overlays/NAME), each with its own keys.txt and api-keys.txt. */
export const OVERLAYS = ['single-region', 'multi-region', 'small'] as const;
/** Provider variants (deploy/k8s/providers/NAME): the single-region overlay with provider patches. */
export const PROVIDERS = ['eks', 'gke', 'aks'] as const;
/** The Prometheus Operator objects (deploy/monitoring), applied beside any overlay. */
export const MONITORING = join(REPO, 'deploy/monitoring');
/** Every renderable kustomization, as a path under deploy/k8s. */
export const RENDERABLE = [...OVERLAYS.map((o) => `overlays/${o}`), ...PROVIDERS.map((p) => `providers/${p}`)];

/** Stands in for the operator's git-ignored keys.txt: well-formed, obviously not a key. */
export const FAKE_KEYRING = `1:${Buffer.alloc(32).toString('base64')}\n`;
/** Stands in for the operator's git-ignored api-keys.txt. */
export const FAKE_API_KEYS = 'test-api-key-not-a-secret\n';
/** The git-ignored files each overlay's secretGenerator reads, with their stand-ins. */
export const OPERATOR_FILES: Record<string, string> = { 'keys.txt': FAKE_KEYRING, 'api-keys.txt': FAKE_API_KEYS };

/** Reads a generator input, standing in for the operator's own files. */
export function readWithStandIns(p: string): string {
  const name = p.split('/').pop()!;
  return Object.hasOwn(OPERATOR_FILES, name) ? OPERATOR_FILES[name] : readFileSync(p, 'utf8');
}

/** Renders a kustomization under deploy/k8s ('overlays/small', 'providers/eks', …). */
export function render(path: string): KObject[] {
  return build(join(K8S, path), { readFile: readWithStandIns });
}

type Validatable = { validate(): void };
const MODELS: Record<string, (o: KObject) => Validatable> = {
  'v1/Namespace': (o) => new Namespace(o as never),
  'v1/Service': (o) => new Service(o as never),
  'v1/Secret': (o) => new Secret(o as never),
  'apps/v1/Deployment': (o) => new Deployment(o as never),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o as never),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o as never),
  'networking.k8s.io/v1/Ingress': (o) => new Ingress(o as never),
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => new ServiceMonitor(o as never),
  'monitoring.coreos.com/v1/PrometheusRule': (o) => new PrometheusRule(o as never),
};

/** Throws unless the object validates against its schema (kubernetes-models, Kubernetes 1.3x
 *  OpenAPI) and every field name is one the API defines. */
export function validateObject(o: KObject): void {
  const make = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!make) throw new Error(`${o.apiVersion} ${o.kind} ${o.metadata.name}: no schema wired into test/deploy/manifests.ts`);
  make(o).validate();
  const unknown = unknownFields(o);
  if (unknown.length > 0) throw new Error(`${o.kind} ${o.metadata.name}: unknown field(s) ${unknown.join(', ')}`);
}

let known: Set<string> | undefined;
/** Every property name of every type in kubernetes-models (from its .d.ts files). The schemas'
 *  validators accept unknown fields (the OpenAPI has no additionalProperties: false) while the
 *  API server rejects them, so a misspelt field would otherwise pass silently. */
function knownFieldNames(): Set<string> {
  if (known) return known;
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.d.ts'))
        for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(/^\s+"([A-Za-z0-9_$-]+)"\??:/gm)) names.add(m[1]);
    }
  };
  walk(join(REPO, 'node_modules/kubernetes-models'));
  walk(join(REPO, 'node_modules/@kubernetes-models/apimachinery'));
  walk(join(REPO, 'node_modules/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'));
  known = names;
  return names;
}

/** Fields whose keys are data (label names, env-like maps), not API field names. */
const FREE_FORM = new Set(['labels', 'annotations', 'matchLabels', 'nodeSelector', 'data', 'stringData', 'requests', 'limits']);

function unknownFields(o: KObject): string[] {
  const names = knownFieldNames();
  const out: string[] = [];
  const visit = (v: unknown, path: string, key: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`, key));
    else if (typeof v === 'object' && v !== null) {
      if (FREE_FORM.has(key) || (o.kind === 'Service' && path === '.spec.selector')) return;
      for (const [k, x] of Object.entries(v)) {
        if (!names.has(k)) out.push(`${path}.${k}`);
        visit(x, `${path}.${k}`, k);
      }
    }
  };
  visit(o, '', '');
  return out;
}

// Typed views of the few structures the checks read.
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] }; seccompProfile?: { type: string } };
}
export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  affinity?: {
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
    };
  };
  topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
}
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export function template(d: KObject): PodTemplate {
  return (d.spec as { template: PodTemplate }).template;
}

export function ofKind(objects: KObject[], kind: string): KObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The Parley process a Deployment runs ('relay' | 'transceiver'), or undefined (Redis). */
export function parleyCommand(d: KObject): string | undefined {
  const c = template(d).spec.containers[0];
  return c.image.includes('parley') ? c.args?.[0] : undefined;
}

export function env(c: Container, name: string): EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}

/** Kubernetes' dependent environment variables: `$(NAME)` in a value expands to NAME's value
 *  if NAME is defined EARLIER in the list, and stays literal otherwise ($$ escapes are not
 *  used in deploy/ and not modelled). Values from the downward API or a Secret are known only
 *  at run time: a reference to one stays `$(NAME)`. Returns each variable's value as the
 *  process sees it, and the references that would stay literal by mistake. */
export function expandEnv(c: Container): { values: Map<string, string>; unresolved: string[] } {
  const values = new Map<string, string>();
  const runtime = new Set<string>();
  const unresolved: string[] = [];
  for (const e of c.env ?? []) {
    if (e.value === undefined) {
      runtime.add(e.name);
      continue;
    }
    values.set(
      e.name,
      e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name: string) => {
        const v = values.get(name);
        if (v !== undefined) return v;
        if (!runtime.has(name)) unresolved.push(`${e.name}: ${ref}`);
        return ref;
      }),
    );
  }
  return { values, unresolved };
}

export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The container port number a probe or Service names (number or port name). */
export function portNumber(c: Container, port: number | string): number | undefined {
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}

/** Seconds a preStop `sleep N` waits (0 without one). */
export function preStopSleep(c: Container): number {
  const cmd = c.lifecycle?.preStop?.exec?.command;
  if (!cmd) return 0;
  if (cmd[0] !== 'sleep' || cmd.length !== 2) throw new Error(`${c.name}: preStop is not 'sleep N'`);
  return Number(cmd[1]);
}

/** A Kubernetes CPU quantity ('2', '500m') in cores. */
export function cpuCores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q);
  if (!m) throw new Error(`CPU quantity ${q}: not understood`);
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** A Kubernetes memory quantity ('512Mi', '1Gi') in bytes (binary suffixes only: deploy/ uses no others). */
export function memoryBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`memory quantity ${q}: not understood`);
  return Number(m[1]) * 1024 ** { '': 0, Ki: 1, Mi: 2, Gi: 3 }[m[2] ?? '']!;
}

/** kubectl, if installed and able to run its built-in kustomize; '' otherwise. */
export function kubectlWithKustomize(): string {
  const path = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  if (!path) return '';
  return spawnSync(path, ['kustomize', '--help'], { encoding: 'utf8', timeout: 30_000 }).status === 0 ? path : '';
}
