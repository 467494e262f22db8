// A small kustomize, enough to render deploy/k8s offline without kubectl: the fields and
// semantics deploy/k8s uses, and an error for anything else, so the manifests cannot drift
// outside what this renders faithfully. Not a general kustomize: no components, no remote
// bases, no JSON 6902 patches, no patch targets, no replacements; strategic merge only knows
// the list merge keys in MERGE_KEYS. Where kubectl is installed, kustomize-subset.test.ts
// compares this against `kubectl kustomize`.
//
// Order per kustomization, as kustomize's own: build resources (recursively), run generators,
// then patches, namespace, name suffix, labels, images; then generated names get their content
// hash and references to them are rewritten.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

export type KObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export interface BuildOptions {
  /** Reads a generator input file; the default reads the file system. Tests use it to stand
   *  in for the operator's git-ignored keys.txt. */
  readFile?: (path: string) => string;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'nameSuffix', 'labels', 'patches', 'images', 'secretGenerator']);

/** Strategic-merge list keys (from the Kubernetes API's patchMergeKey), by the list's field name. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
};

/** Kinds that are not namespaced, among those this subset meets. */
const CLUSTER_SCOPED = new Set(['Namespace']);

interface Generated {
  object: KObject;
  originalName: string;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function loadYamlObjects(text: string, where: string): KObject[] {
  const out: KObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0].message}`);
    const v: unknown = doc.toJS();
    if (v === null || v === undefined) continue;
    if (
      !isMap(v) ||
      typeof v.kind !== 'string' ||
      typeof v.apiVersion !== 'string' ||
      !isMap(v.metadata) ||
      typeof v.metadata.name !== 'string'
    ) {
      throw new Error(`${where}: a document without apiVersion, kind and metadata.name`);
    }
    out.push(v as KObject);
  }
  return out;
}

/** RFC-7386-like merge with Kubernetes' strategic rules for the lists in MERGE_KEYS: items
 *  with the same key merge; other lists are replaced; null deletes a field. Order as
 *  kustomize (kyaml) leaves it: the patch's items first, in the patch's order, then the
 *  target's other items — so a patched env entry moves before the ones it was after, and a
 *  `$(VAR)` in it no longer sees VAR (manifests.test.ts checks the order). */
export function strategicMerge(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(target)) return structuredClone(patch);
    const rest = structuredClone(target) as unknown[];
    const out: unknown[] = [];
    for (const item of patch) {
      if (!isMap(item) || typeof item[key] !== 'string') throw new Error(`patch: items of ${field} need '${key}'`);
      const i = rest.findIndex((t) => isMap(t) && t[key] === item[key]);
      out.push(i < 0 ? structuredClone(item) : strategicMerge(rest.splice(i, 1)[0], item, ''));
    }
    return [...out, ...rest];
  }
  if (!isMap(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isMap(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) throw new Error(`patch: directive ${k} is outside the supported subset`);
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k], v, k);
  }
  return out;
}

/** kustomize's name hash: sha256 of the object's JSON, first 10 hex digits with the vowels
 *  and the digits that look like letters mapped away. Stable, though not byte-equal to
 *  kustomize's (which hashes a canonical encoding); only consistency matters here. */
function nameHash(o: KObject): string {
  const h = createHash('sha256')
    .update(JSON.stringify({ kind: o.kind, name: o.metadata.name, data: o.data, type: o.type }))
    .digest('hex');
  const map: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...h.slice(0, 10)].map((c) => map[c] ?? c).join('');
}

function generateSecrets(dir: string, spec: unknown, opts: BuildOptions): Generated[] {
  if (!Array.isArray(spec)) throw new Error(`${dir}: secretGenerator must be a list`);
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  return spec.map((g: unknown) => {
    if (!isMap(g) || typeof g.name !== 'string' || !Array.isArray(g.files))
      throw new Error(`${dir}: secretGenerator entries need name and files`);
    for (const k of Object.keys(g))
      if (!['name', 'files', 'type'].includes(k)) throw new Error(`${dir}: secretGenerator.${k} is outside the supported subset`);
    const data: Record<string, string> = {};
    for (const f of g.files as unknown[]) {
      if (typeof f !== 'string') throw new Error(`${dir}: secretGenerator files are strings`);
      const eq = f.indexOf('=');
      const key = eq < 0 ? f.split('/').pop()! : f.slice(0, eq);
      const file = eq < 0 ? f : f.slice(eq + 1);
      if (file.includes('..') || file.startsWith('/'))
        throw new Error(`${dir}: ${file} is outside the kustomization (kustomize refuses it too)`);
      data[key] = Buffer.from(read(join(dir, file))).toString('base64');
    }
    const object: KObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: g.name },
      type: typeof g.type === 'string' ? g.type : 'Opaque',
      data,
    };
    return { object, originalName: g.name };
  });
}

function readKustomization(dir: string): Record<string, unknown> {
  for (const n of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const p = join(dir, n);
    if (existsSync(p)) {
      const k: unknown = parse(readFileSync(p, 'utf8'));
      if (!isMap(k)) throw new Error(`${p}: not a mapping`);
      for (const f of Object.keys(k))
        if (!SUPPORTED.has(f)) throw new Error(`${p}: '${f}' is outside the kustomize subset test/deploy/kustomize.ts implements`);
      return k;
    }
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

function sameTarget(a: KObject, b: KObject): boolean {
  return a.kind === b.kind && a.metadata.name === b.metadata.name && a.apiVersion.split('/')[0] === b.apiVersion.split('/')[0];
}

function podSpecs(o: KObject): Record<string, unknown>[] {
  const spec = o.spec;
  if (!isMap(spec) || !isMap(spec.template) || !isMap(spec.template.spec)) return [];
  return [spec.template.spec];
}

function containersOf(o: KObject): Record<string, unknown>[] {
  return podSpecs(o).flatMap(
    (ps) =>
      [...(Array.isArray(ps.initContainers) ? ps.initContainers : []), ...(Array.isArray(ps.containers) ? ps.containers : [])] as Record<
        string,
        unknown
      >[],
  );
}

/** Rewrites references to renamed Secrets in pod templates (env, envFrom, volumes). */
function renameSecretRefs(objects: KObject[], from: string, to: string): void {
  for (const o of objects) {
    for (const c of containersOf(o)) {
      for (const e of (Array.isArray(c.env) ? c.env : []) as Record<string, unknown>[]) {
        const ref = isMap(e.valueFrom) ? e.valueFrom.secretKeyRef : undefined;
        if (isMap(ref) && ref.name === from) ref.name = to;
      }
      for (const e of (Array.isArray(c.envFrom) ? c.envFrom : []) as Record<string, unknown>[]) {
        if (isMap(e.secretRef) && e.secretRef.name === from) e.secretRef.name = to;
      }
    }
    for (const ps of podSpecs(o)) {
      for (const v of (Array.isArray(ps.volumes) ? ps.volumes : []) as Record<string, unknown>[]) {
        if (isMap(v.secret) && v.secret.secretName === from) v.secret.secretName = to;
      }
    }
  }
}

function setImages(objects: KObject[], images: unknown, dir: string): void {
  if (!Array.isArray(images)) throw new Error(`${dir}: images must be a list`);
  for (const im of images as unknown[]) {
    if (!isMap(im) || typeof im.name !== 'string') throw new Error(`${dir}: images entries need a name`);
    for (const k of Object.keys(im))
      if (!['name', 'newName', 'newTag'].includes(k)) throw new Error(`${dir}: images.${k} is outside the supported subset`);
    for (const o of objects) {
      for (const c of containersOf(o)) {
        const [name, tag] = String(c.image).split(/:(?=[^/:]*$)/);
        if (name !== im.name) continue;
        c.image = `${typeof im.newName === 'string' ? im.newName : name}${typeof im.newTag === 'string' ? `:${im.newTag}` : tag ? `:${tag}` : ''}`;
      }
    }
  }
}

interface Built {
  objects: KObject[];
  generated: Generated[];
}

function buildDir(dirIn: string, opts: BuildOptions): Built {
  const dir = resolve(dirIn);
  const k = readKustomization(dir);
  const objects: KObject[] = [];
  const generated: Generated[] = [];
  for (const r of (k.resources ?? []) as unknown[]) {
    if (typeof r !== 'string') throw new Error(`${dir}: resources are paths`);
    const p = resolve(dir, r);
    if (statSync(p).isDirectory()) {
      const sub = buildDir(p, opts);
      objects.push(...sub.objects);
      generated.push(...sub.generated);
    } else {
      objects.push(...loadYamlObjects(readFileSync(p, 'utf8'), p));
    }
  }
  if (k.secretGenerator !== undefined) {
    const gens = generateSecrets(dir, k.secretGenerator, opts);
    generated.push(...gens);
    objects.push(...gens.map((g) => g.object));
  }
  for (const p of (k.patches ?? []) as unknown[]) {
    if (!isMap(p) || typeof p.path !== 'string' || Object.keys(p).length !== 1)
      throw new Error(`${dir}: patches entries must be { path } (strategic merge, target by apiVersion group + kind + name)`);
    for (const patch of loadYamlObjects(readFileSync(join(dir, p.path), 'utf8'), join(dir, p.path))) {
      const i = objects.findIndex((o) => sameTarget(o, patch));
      if (i < 0) throw new Error(`${dir}/${p.path}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[i] = strategicMerge(objects[i], patch) as KObject;
    }
  }
  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new Error(`${dir}: namespace must be a string`);
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  if (k.nameSuffix !== undefined) {
    // No object of this subset refers to another by a name that the suffix changes, except
    // generated Secrets, whose references are rewritten below together with the hash.
    for (const o of objects) o.metadata.name += String(k.nameSuffix);
  }
  if (k.labels !== undefined) {
    if (!Array.isArray(k.labels)) throw new Error(`${dir}: labels must be a list`);
    for (const l of k.labels as unknown[]) {
      if (!isMap(l) || !isMap(l.pairs) || Object.keys(l).length !== 1)
        throw new Error(`${dir}: labels entries must be { pairs } (no includeSelectors/includeTemplates in this subset)`);
      for (const o of objects) o.metadata.labels = { ...(o.metadata.labels ?? {}), ...(l.pairs as Record<string, string>) };
    }
  }
  if (k.images !== undefined) setImages(objects, k.images, dir);
  return { objects, generated };
}

/** Renders the kustomization in `dir` like `kubectl kustomize dir`, within the subset. */
export function build(dir: string, opts: BuildOptions = {}): KObject[] {
  const { objects, generated } = buildDir(dir, opts);
  for (const g of generated) {
    const current = g.object.metadata.name;
    const hashed = `${current}-${nameHash(g.object)}`;
    g.object.metadata.name = hashed;
    renameSecretRefs(objects, g.originalName, hashed);
  }
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new Error(`${dir}: ${id} is defined twice`);
    seen.add(id);
  }
  return objects;
}
