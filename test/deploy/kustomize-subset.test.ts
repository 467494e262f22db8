// The kustomize subset in kustomize.ts: strategic merge semantics, refusal of anything outside
// the subset, the unknown-field check of manifests.ts — and, where kubectl is installed, the
// same output as `kubectl kustomize` for both overlays (skipped otherwise; never required).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from './kustomize.ts';
import { build, loadYamlObjects, strategicMerge } from './kustomize.ts';
import type { Container } from './manifests.ts';
import {
  K8S,
  OPERATOR_FILES,
  kubectlWithKustomize,
  OVERLAYS,
  RENDERABLE,
  expandEnv,
  readWithStandIns,
  render,
  validateObject,
} from './manifests.ts';

test('strategic merge: containers and env merge by name, patched items first (as kustomize); other lists are replaced; null deletes', () => {
  const base = {
    spec: {
      containers: [
        {
          name: 'a',
          image: 'x',
          env: [
            { name: 'P', value: '1' },
            { name: 'Q', value: '2' },
          ],
          args: ['r'],
        },
        { name: 'b', image: 'y' },
      ],
      nodeSelector: { k: 'v' },
    },
  };
  const patch = {
    spec: {
      containers: [
        {
          name: 'a',
          env: [
            { name: 'Q', value: '3' },
            { name: 'R', value: '4' },
          ],
          args: ['s'],
        },
      ],
      nodeSelector: { k: null, z: 'w' },
    },
  };
  assert.deepEqual(strategicMerge(base, patch), {
    spec: {
      containers: [
        {
          name: 'a',
          image: 'x',
          env: [
            { name: 'Q', value: '3' },
            { name: 'R', value: '4' },
            { name: 'P', value: '1' },
          ],
          args: ['s'],
        },
        { name: 'b', image: 'y' },
      ],
      nodeSelector: { z: 'w' },
    },
  });
  assert.equal(base.spec.containers[0].env?.length, 2, 'inputs are not modified');
  assert.throws(() => strategicMerge(base, { spec: { $patch: 'replace' } }), /outside the supported subset/);
});

function tmpKustomization(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-kustomize-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('fields outside the subset are refused rather than half-rendered', () => {
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n';
  for (const k of ['commonLabels: {a: b}', 'namePrefix: x-', 'configMapGenerator: []', 'replacements: []', 'components: [x]']) {
    const dir = tmpKustomization({ 'kustomization.yaml': `resources: [cm.yaml]\n${k}\n`, 'cm.yaml': cm });
    try {
      assert.throws(() => build(dir), /outside the kustomize subset/, k);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }
  const dir = tmpKustomization({
    'kustomization.yaml': 'resources: [cm.yaml]\npatches:\n  - path: p.yaml\n    target: {kind: ConfigMap}\n',
    'cm.yaml': cm,
    'p.yaml': cm,
  });
  try {
    assert.throws(() => build(dir), /patches entries must be \{ path \}/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a misspelt field fails validation even though the schema validators allow unknown fields', () => {
  const objs = render('overlays/single-region');
  const d = structuredClone(objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'transceiver')!);
  validateObject(d);
  const c = (d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0];
  c.readinessprobe = c.readinessProbe;
  delete c.readinessProbe;
  assert.throws(() => validateObject(d), /unknown field\(s\) \.spec\.template\.spec\.containers\[0\]\.readinessprobe/);
  c.readinessProbe = { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: '5' };
  delete c.readinessprobe;
  assert.throws(() => validateObject(d), /periodSeconds must be integer/);
});

const kubectl = kubectlWithKustomize();

/** The generated Secret's name ends in a content hash whose encoding differs; compare without it. */
function normalise(objs: KObject[]): Map<string, KObject> {
  const text = JSON.stringify(objs).replace(/(parley-(?:api-)?keys)-[a-z0-9]{10}/g, '$1-HASH');
  return new Map((JSON.parse(text) as KObject[]).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

test(
  'renders the same objects as `kubectl kustomize`',
  { skip: kubectl ? false : 'kubectl with kustomize not available (optional)' },
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'parley-k8s-'));
    try {
      cpSync(K8S, tmp, { recursive: true });
      for (const o of OVERLAYS) for (const [f, text] of Object.entries(OPERATOR_FILES)) writeFileSync(join(tmp, 'overlays', o, f), text);
      for (const o of RENDERABLE) {
        const out = execFileSync(kubectl, ['kustomize', join(tmp, o)], { encoding: 'utf8', timeout: 60_000 });
        const theirs = normalise(loadYamlObjects(out, `kubectl kustomize ${o}`));
        const ours = normalise(build(join(tmp, o)));
        assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort(), o);
        for (const [id, obj] of ours) assert.deepEqual(obj, theirs.get(id), `${o}: ${id}`);
      }
    } finally {
      rmSync(tmp, { recursive: true });
    }
  },
);

/** The single-region overlay with one more layer on top that sets one env entry of one
 *  Deployment's container (named like the Deployment): that container as rendered. */
function singleRegionWithEnvPatch(deployment: string, entry: string): Container {
  const dir = tmpKustomization({
    'kustomization.yaml': `resources: [${JSON.stringify(join(K8S, 'overlays/single-region'))}]\npatches:\n  - path: p.yaml\n`,
    'p.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${deployment}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: ${deployment}\n          env:\n            - ${entry}\n`,
  });
  try {
    const objs = build(dir, { readFile: readWithStandIns });
    const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment)!;
    return (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0];
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test('an overlay that patches a $(POD_IP) variable moves it before POD_IP (why overlays never patch them)', () => {
  const c = singleRegionWithEnvPatch('transceiver', '{name: PARLEY_MEDIA, value: "$(POD_IP):7001"}');
  const names = c.env!.map((e) => e.name);
  assert.ok(names.indexOf('PARLEY_MEDIA') < names.indexOf('POD_IP'));
  assert.deepEqual(expandEnv(c).unresolved, ['PARLEY_MEDIA: $(POD_IP)'], 'the manifests test would catch it');
});

test('patching RELAY_PUBLIC_IP (the helper PARLEY_LISTEN expands) moves only a definition forward, so $(RELAY_PUBLIC_IP) still expands', () => {
  const c = singleRegionWithEnvPatch('relay', '{name: RELAY_PUBLIC_IP, value: 198.51.100.99}');
  assert.equal(c.env![0].name, 'RELAY_PUBLIC_IP', 'the patched entry moved to the front');
  assert.deepEqual(expandEnv(c).unresolved, []);
  assert.equal(expandEnv(c).values.get('PARLEY_LISTEN'), '$(POD_IP):3478=198.51.100.99:3478');
  const moved = { ...c, env: [...c.env!.slice(1), c.env![0]] };
  assert.deepEqual(expandEnv(moved).unresolved, ['PARLEY_LISTEN: $(RELAY_PUBLIC_IP)'], 'defined after its use, it would stay literal');
});
