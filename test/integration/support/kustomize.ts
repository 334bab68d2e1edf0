import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small kustomize renderer for exactly what deploy/k8s uses, with kustomize's semantics, so the
 * tests check the objects `kubectl apply -k` would send (no kustomize binary is packaged for npm or
 * Debian). Anything else in a kustomization is refused rather than ignored, so an overlay that
 * starts using another feature fails here until the renderer learns it.
 *
 * Supported: `resources` (files and directories), `components`, `namespace`, `images` (name,
 * newName, newTag, digest), `replicas`, and `patches` in JSON 6902 form (inline `patch` or `path`)
 * with a `target` of group, version, kind, name, namespace (names and namespaces are anchored
 * regular expressions, as in kustomize). Order of the transformers as in kustomize: patches,
 * namespace, replicas, images.
 *
 * YAML is read as YAML 1.1, like the API machinery (sigs.k8s.io/yaml): `defaultMode: 0440` is octal.
 */
export type K8sObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'images',
  'replicas',
  'patches',
]);
const PATCH_FIELDS = new Set(['target', 'patch', 'path']);
const TARGET_FIELDS = new Set(['group', 'version', 'kind', 'name', 'namespace']);
const IMAGE_FIELDS = new Set(['name', 'newName', 'newTag', 'digest']);

/** Kinds without a namespace among those the manifests could contain. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
]);
const REPLICA_KINDS = new Set(['Deployment', 'ReplicaSet', 'ReplicationController', 'StatefulSet']);

export function parseYamlDocs(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' })
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      return d.toJS() as K8sObject;
    })
    .filter((d) => d !== null && d !== undefined);
}

function kustomizationFile(dir: string): string {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const f = path.join(dir, name);
    if (existsSync(f)) return f;
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

function unknownFields(where: string, obj: Record<string, unknown>, allowed: Set<string>): void {
  const extra = Object.keys(obj).filter((k) => !allowed.has(k));
  if (extra.length) throw new Error(`${where}: unsupported by the test renderer: ${extra.join(', ')}`);
}

export function resourceId(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Renders a kustomization directory (an overlay or the base) to its objects. */
export function kustomizeBuild(dir: string): K8sObject[] {
  return build(path.resolve(dir), null);
}

function build(dir: string, accumulated: K8sObject[] | null): K8sObject[] {
  const file = kustomizationFile(dir);
  const [k] = parseYamlDocs(file) as Record<string, any>[];
  unknownFields(file, k, KUSTOMIZATION_FIELDS);
  const isComponent = k.kind === 'Component';
  if (isComponent !== (accumulated !== null))
    throw new Error(`${file}: a Component must be listed under components, a Kustomization under resources`);
  if (isComponent ? k.apiVersion !== 'kustomize.config.k8s.io/v1alpha1' : k.kind !== 'Kustomization')
    throw new Error(`${file}: unexpected kind ${k.kind} (${k.apiVersion})`);
  if (!isComponent && k.apiVersion !== 'kustomize.config.k8s.io/v1beta1')
    throw new Error(`${file}: unexpected apiVersion ${k.apiVersion}`);

  let objects: K8sObject[] = [...(accumulated ?? [])];
  for (const r of (k.resources ?? []) as string[]) {
    const p = path.resolve(dir, r);
    if (!existsSync(p)) throw new Error(`${file}: resource ${r} does not exist`);
    objects.push(...(statSync(p).isDirectory() ? build(p, null) : parseYamlDocs(p)));
  }
  for (const c of (k.components ?? []) as string[]) objects = build(path.resolve(dir, c), objects);

  const seen = new Set<string>();
  for (const o of objects) {
    if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new Error(`${file}: an object without id`);
    const id = resourceId(o);
    if (seen.has(id)) throw new Error(`${file}: ${id} is defined twice`);
    seen.add(id);
  }

  for (const [i, p] of ((k.patches ?? []) as Record<string, any>[]).entries()) {
    unknownFields(`${file} patches[${i}]`, p, PATCH_FIELDS);
    if (!p.target) throw new Error(`${file} patches[${i}]: only JSON 6902 patches with a target are supported`);
    unknownFields(`${file} patches[${i}].target`, p.target, TARGET_FIELDS);
    const text: string = p.patch ?? readFileSync(path.resolve(dir, p.path), 'utf8');
    const docs = parseAllDocuments(text, { version: '1.1' });
    if (docs.length !== 1 || docs[0].errors.length) throw new Error(`${file} patches[${i}]: not one YAML document`);
    const ops = docs[0].toJS();
    if (!Array.isArray(ops)) throw new Error(`${file} patches[${i}]: not a JSON 6902 list of operations`);
    const matched = objects.filter((o) => targetMatches(p.target, o));
    if (!matched.length) throw new Error(`${file} patches[${i}]: the target matches nothing`);
    objects = objects.map((o) => (matched.includes(o) ? applyJsonPatch(o, ops, `${file} patches[${i}]`) : o));
  }

  if (k.namespace !== undefined) {
    objects = objects.map((o) => {
      if (CLUSTER_SCOPED.has(o.kind)) {
        if (o.kind === 'Namespace' && o.metadata.name !== k.namespace)
          throw new Error(`${file}: a Namespace ${o.metadata.name} under namespace ${k.namespace} (ambiguous)`);
        return o;
      }
      return { ...o, metadata: { ...o.metadata, namespace: k.namespace } };
    });
  }

  for (const r of (k.replicas ?? []) as { name: string; count: number }[]) {
    const hits = objects.filter((o) => REPLICA_KINDS.has(o.kind) && o.metadata.name === r.name);
    if (!hits.length) throw new Error(`${file}: replicas for ${r.name} match nothing`);
    objects = objects.map((o) => (hits.includes(o) ? { ...o, spec: { ...o.spec, replicas: r.count } } : o));
  }

  for (const img of (k.images ?? []) as Record<string, string>[]) {
    unknownFields(`${file} images`, img, IMAGE_FIELDS);
    objects = objects.map((o) => setImages(o, img));
  }
  return objects;
}

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function targetMatches(t: Record<string, string>, o: K8sObject): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (t.group !== undefined && t.group !== group) return false;
  if (t.version !== undefined && t.version !== version) return false;
  if (t.kind !== undefined && t.kind !== o.kind) return false;
  if (t.name !== undefined && !anchored(t.name).test(o.metadata.name)) return false;
  if (t.namespace !== undefined && !anchored(t.namespace).test(o.metadata.namespace ?? '')) return false;
  return true;
}

/** Splits `registry:5000/a/b:tag@sha256:...` into name, tag and digest. */
export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

function setImages(o: K8sObject, img: Record<string, string>): K8sObject {
  const visit = (node: unknown, key: string | null): unknown => {
    if (Array.isArray(node)) {
      if (key === 'containers' || key === 'initContainers' || key === 'ephemeralContainers')
        return node.map((c) => {
          const rewritten = visit(c, null) as Record<string, any>;
          return typeof rewritten?.image === 'string'
            ? { ...rewritten, image: rewriteImage(rewritten.image, img) }
            : rewritten;
        });
      return node.map((x) => visit(x, null));
    }
    if (node && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v, k)]));
    return node;
  };
  return visit(o, null) as K8sObject;
}

function rewriteImage(image: string, img: Record<string, string>): string {
  const cur = splitImage(image);
  if (cur.name !== img.name) return image;
  const name = img.newName ?? cur.name;
  if (img.digest) return `${name}@${img.digest}`;
  if (img.newTag) return `${name}:${img.newTag}`;
  return `${name}${cur.tag ? `:${cur.tag}` : ''}${cur.digest ? `@${cur.digest}` : ''}`;
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`bad JSON pointer ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: any, tokens: string[], where: string): any {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(t)] : node?.[t];
    if (node === undefined || node === null || typeof node !== 'object') throw new Error(`${where}: no ${t}`);
  }
  return node;
}

function get(doc: any, p: string, where: string): unknown {
  const tokens = pointer(p);
  if (!tokens.length) return doc;
  const parent = parentOf(doc, tokens, where);
  const last = tokens[tokens.length - 1];
  const v = Array.isArray(parent) ? parent[Number(last)] : parent[last];
  if (v === undefined) throw new Error(`${where}: ${p} does not exist`);
  return v;
}

function index(arr: unknown[], t: string, forAdd: boolean, where: string): number {
  if (forAdd && t === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(t)) throw new Error(`${where}: bad array index ${t}`);
  const i = Number(t);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`${where}: index ${i} out of range`);
  return i;
}

function remove(doc: any, p: string, where: string): unknown {
  const tokens = pointer(p);
  const parent = parentOf(doc, tokens, where);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent.splice(index(parent, last, false, where), 1)[0];
  if (!(last in parent)) throw new Error(`${where}: ${p} does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function add(doc: any, p: string, value: unknown, where: string): void {
  const tokens = pointer(p);
  if (!tokens.length) throw new Error(`${where}: cannot replace the whole object`);
  const parent = parentOf(doc, tokens, where);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(index(parent, last, true, where), 0, value);
  else parent[last] = value;
}

/** RFC 6902 on a copy of `obj`. */
export function applyJsonPatch<T>(obj: T, ops: Record<string, any>[], where = 'patch'): T {
  const doc = structuredClone(obj) as any;
  for (const op of ops) {
    const w = `${where} ${op.op} ${op.path}`;
    switch (op.op) {
      case 'add':
        add(doc, op.path, structuredClone(op.value), w);
        break;
      case 'remove':
        remove(doc, op.path, w);
        break;
      case 'replace':
        get(doc, op.path, w);
        remove(doc, op.path, w);
        add(doc, op.path, structuredClone(op.value), w);
        break;
      case 'move':
        add(doc, op.path, remove(doc, op.from, w), w);
        break;
      case 'copy':
        add(doc, op.path, structuredClone(get(doc, op.from, w)), w);
        break;
      case 'test':
        if (JSON.stringify(get(doc, op.path, w)) !== JSON.stringify(op.value)) throw new Error(`${w}: test failed`);
        break;
      default:
        throw new Error(`${w}: unknown operation`);
    }
  }
  return doc as T;
}
