import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import {
  applyJsonPatch,
  kustomizeBuild,
  parseYamlDocs,
  resourceId,
  splitImage,
  type K8sObject,
} from './support/kustomize.js';
import { podSecurityViolations, podSpecs } from './support/pod-security.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = path.join(root, 'deploy/k8s');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

const SERVICES = ['kernel', 'policy', 'recorder', 'vfs'] as const;
const HTTP_PORT: Record<string, number> = { kernel: 8081, policy: 8082, recorder: 8083, vfs: 8084 };
const AUTOSCALED = ['kernel', 'vfs'];
/** Secrets the operator creates (deploy/k8s/base/config.yaml, docs/operations.md); never in the manifests. */
const OPERATOR_SECRETS = [
  ...SERVICES.map((s) => `agentos-nats-${s}`),
  'agentos-nats-authority',
  'agentos-nats-operator',
  'agentos-secrets',
  'agentos-checkpoint-key',
];

/** JSON schema validation of each kind (kubernetes-models: the API's OpenAPI schemas, compiled with ajv). */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'batch/v1/CronJob': CronJob,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || !Object.keys(selector).length) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function containersOf(pod: Record<string, any>): Record<string, any>[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

function component(o: K8sObject): string {
  return o.metadata.labels?.['app.kubernetes.io/component'] ?? '';
}

describe('kustomize renderer (test support)', () => {
  it('applies JSON 6902 operations like RFC 6902', () => {
    const doc = { a: { b: [1, 2, 3] }, c: 'x' };
    expect(
      applyJsonPatch(doc, [
        { op: 'replace', path: '/a/b/1', value: 9 },
        { op: 'add', path: '/a/b/-', value: 4 },
        { op: 'add', path: '/d~1e', value: true },
        { op: 'remove', path: '/c' },
        { op: 'test', path: '/a/b/0', value: 1 },
      ]),
    ).toEqual({ a: { b: [1, 9, 3, 4] }, 'd/e': true });
    expect(doc.c).toBe('x');
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/nope', value: 1 }])).toThrow(/does not exist/);
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/c', value: 'y' }])).toThrow(/test failed/);
  });

  it('splits image references', () => {
    expect(splitImage('agentos')).toEqual({ name: 'agentos' });
    expect(splitImage('reg:5000/a/agentos:1.2')).toEqual({ name: 'reg:5000/a/agentos', tag: '1.2' });
    expect(splitImage('agentos@sha256:ab')).toEqual({ name: 'agentos', digest: 'sha256:ab' });
  });

  it('reads YAML 1.1 like the API machinery (octal modes)', () => {
    const base = kustomizeBuild(path.join(k8s, 'base'));
    const kernel = base.find((o) => o.kind === 'Deployment' && o.metadata.name === 'agentos-kernel')!;
    expect(kernel.spec.template.spec.volumes[0].secret.defaultMode).toBe(0o440);
  });
});

describe('pod security checker (test support)', () => {
  it('admits a restricted pod and names what a weakened one breaks', () => {
    const good = {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 't', emptyDir: {} }],
      containers: [
        { name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
      ],
    };
    expect(podSecurityViolations(good)).toEqual([]);
    const bad = structuredClone(good) as any;
    delete bad.securityContext.seccompProfile;
    bad.volumes.push({ name: 'h', hostPath: { path: '/' } });
    bad.containers[0].securityContext.capabilities = { add: ['NET_ADMIN'] };
    bad.initContainers = [{ name: 'i', securityContext: { runAsUser: 0 } }];
    const v = podSecurityViolations(bad).join('\n');
    expect(v).toMatch(/seccompProfile is unset/);
    expect(v).toMatch(/volume h: type hostPath/);
    expect(v).toMatch(/container c: capabilities do not drop ALL/);
    expect(v).toMatch(/adds capability NET_ADMIN/);
    expect(v).toMatch(/container i: allowPrivilegeEscalation/);
    expect(v).toMatch(/container i: runAsUser is 0/);
  });
});

describe('Kubernetes manifests (kustomize base, overlays dev and prod)', () => {
  it('lists every manifest of the base and of the monitoring component in its kustomization', () => {
    for (const dir of ['base', 'components/monitoring']) {
      const k = parseYamlDocs(path.join(k8s, dir, 'kustomization.yaml'))[0] as Record<string, any>;
      expect([...k.resources].sort()).toEqual(
        readdirSync(path.join(k8s, dir))
          .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
          .sort(),
      );
    }
    // nothing left beside the kustomize layout
    expect(readdirSync(k8s).sort()).toEqual(['base', 'components', 'overlays']);
    expect(readdirSync(path.join(k8s, 'overlays')).sort()).toEqual(['dev', 'prod']);
  });

  describe.each(['dev', 'prod'])('overlay %s', (overlay) => {
    const objects = kustomizeBuild(path.join(k8s, 'overlays', overlay));
    const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
    const deployments = ofKind('Deployment');
    const deploymentOf = (s: string) => deployments.find((d) => d.metadata.name === `agentos-${s}`)!;
    const workloads = objects.filter((o) => podSpecs(o).length > 0);

    it('renders objects that are schema-valid for their kinds, all in the namespace agentos', () => {
      expect(objects.length).toBeGreaterThan(10);
      for (const o of objects) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        if (!Model) throw new Error(`${resourceId(o)}: no schema for this kind (add it to MODELS)`);
        try {
          new Model(o).validate();
        } catch (err) {
          throw new Error(`${resourceId(o)}: ${(err as Error).message}`);
        }
        if (o.kind === 'Namespace') expect(o.metadata.name).toBe('agentos');
        else expect(o.metadata.namespace).toBe('agentos');
      }
    });

    it('contains no Secret and no secret value: Secrets are created by the operator', () => {
      expect(ofKind('Secret')).toEqual([]);
      const text = JSON.stringify(objects);
      expect(text).not.toMatch(/change-me|agentos-services/);
      expect(text).not.toMatch(/(postgres|nats):\/\/[^"\s/]*:[^"\s@]*@/); // a URL with a password
      const referenced = new Set<string>();
      const visit = (n: unknown, key?: string) => {
        if (Array.isArray(n)) n.forEach((x) => visit(x));
        else if (n && typeof n === 'object') {
          const r = n as Record<string, any>;
          if (key === 'secret' && r.secretName) referenced.add(r.secretName);
          if ((key === 'secretKeyRef' || key === 'secretRef') && r.name) referenced.add(r.name);
          for (const [k, v] of Object.entries(r)) visit(v, k);
        }
      };
      visit(objects);
      for (const s of referenced) expect(OPERATOR_SECRETS).toContain(s);
      // every ConfigMap and PersistentVolumeClaim a pod uses is part of the render
      for (const w of workloads)
        for (const pod of podSpecs(w)) {
          for (const c of containersOf(pod))
            for (const e of c.envFrom ?? [])
              if (e.configMapRef)
                expect(ofKind('ConfigMap').map((m) => m.metadata.name)).toContain(e.configMapRef.name);
          for (const v of pod.volumes ?? [])
            if (v.persistentVolumeClaim)
              expect(ofKind('PersistentVolumeClaim').map((p) => p.metadata.name)).toContain(
                v.persistentVolumeClaim.claimName,
              );
        }
    });

    it('runs every container from one image at the released tag, never latest', () => {
      const images = workloads.flatMap((w) => podSpecs(w).flatMap((p) => containersOf(p).map((c) => c.image)));
      expect(images.length).toBe(4 + 1 + 1); // four services, the migration, the checkpoint
      for (const image of images) {
        const { name, tag, digest } = splitImage(image);
        expect(name).toBe('agentos');
        expect(tag ?? digest).toBeDefined();
        expect(tag).not.toBe('latest');
        if (!digest) expect(tag).toBe(version);
      }
      expect(JSON.stringify(objects)).not.toMatch(/:latest\b/);
    });

    it('admits every pod (Deployments, the migration, the CronJob) under Pod Security "restricted"', () => {
      const ns = ofKind('Namespace')[0];
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect(workloads.map((w) => w.kind).sort()).toEqual([
        'CronJob',
        'Deployment',
        'Deployment',
        'Deployment',
        'Deployment',
      ]);
      for (const w of workloads)
        for (const pod of podSpecs(w)) {
          expect({ workload: w.metadata.name, violations: podSecurityViolations(pod) }).toEqual({
            workload: w.metadata.name,
            violations: [],
          });
          expect(pod.securityContext.runAsUser).toBe(1000); // the image's `node` user
          expect(pod.automountServiceAccountToken).toBe(false);
          const tmp = (pod.volumes ?? []).find((v: any) => v.name === 'tmp');
          expect(tmp?.emptyDir).toBeDefined();
          for (const c of containersOf(pod)) {
            expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
            expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
            expect(c.resources.requests.cpu).toBeDefined();
            expect(c.resources.requests.memory).toBeDefined();
            expect(c.resources.limits.memory).toBeDefined();
          }
          // mounted Secrets are readable by uid 1000 only through the group: fsGroup and mode 0440
          for (const v of pod.volumes ?? [])
            if (v.secret) {
              expect(pod.securityContext.fsGroup).toBe(1000);
              expect(v.secret.defaultMode).toBe(0o440);
            }
        }
    });

    it('has a Deployment with probes, resources and graceful termination for each of the four services', () => {
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual(SERVICES.map((s) => `agentos-${s}`));
      for (const d of deployments) {
        const s = component(d);
        const pod = d.spec.template.spec;
        const c = pod.containers[0];
        expect(pod.containers).toHaveLength(1);
        expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
        expect(c.ports).toEqual([{ name: 'http', containerPort: HTTP_PORT[s] }]);
        expect(c.env.find((e: any) => e.name === 'AGENTOS_HTTP_PORT').value).toBe(String(HTTP_PORT[s]));
        expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
        expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(30);
        expect(c.resources.requests.cpu).toBeDefined();
        expect(c.resources.requests.memory).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
        expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        expect(c.command).toEqual(['node', `dist/apps/${s}/src/main.js`]);
        const entry = c.command[1] as string;
        expect(existsSync(path.join(root, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
        expect(c.envFrom.map((e: any) => Object.keys(e)[0]).sort()).toEqual(['configMapRef', 'secretRef']);
      }
    });

    it('spreads each service over zones and nodes', () => {
      for (const d of deployments) {
        const tsc: any[] = d.spec.template.spec.topologySpreadConstraints;
        expect(tsc.map((t) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
        for (const t of tsc) {
          expect(t.labelSelector.matchLabels).toEqual(d.spec.selector.matchLabels);
          expect(t.maxSkew).toBe(1);
        }
        expect(tsc[1].whenUnsatisfiable).toBe(overlay === 'prod' ? 'DoNotSchedule' : 'ScheduleAnyway');
      }
    });

    it('has a PodDisruptionBudget per service, and a CPU autoscaler for kernel and vfs', () => {
      const pdbs = ofKind('PodDisruptionBudget');
      for (const d of deployments) {
        const mine = pdbs.filter((p) => selects(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
        expect(mine).toHaveLength(1);
        expect(mine[0].spec.maxUnavailable ?? 0).toBeGreaterThanOrEqual(1); // never blocks a drain
        const hpas = ofKind('HorizontalPodAutoscaler').filter((h) => h.spec.scaleTargetRef.name === d.metadata.name);
        if (AUTOSCALED.includes(component(d))) {
          expect(hpas).toHaveLength(1);
          const h = hpas[0].spec;
          expect(h.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name });
          expect(h.metrics).toEqual([
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          ]);
          expect(h.minReplicas).toBeGreaterThanOrEqual(1);
          expect(h.maxReplicas).toBeGreaterThan(h.minReplicas);
          // the autoscaler owns the count: a `replicas` here would be reset by every apply
          expect(d.spec.replicas).toBeUndefined();
        } else {
          expect(hpas).toHaveLength(0);
          expect(d.spec.replicas).toBe(overlay === 'dev' ? 1 : 2);
        }
      }
      expect(pdbs).toHaveLength(4);
    });

    it('has a Service per Deployment, named port http', () => {
      const services = ofKind('Service');
      expect(services.map((s) => s.metadata.name).sort()).toEqual(deployments.map((d) => d.metadata.name).sort());
      for (const svc of services) {
        const d = deploymentOf(component(svc));
        expect(selects(svc.spec.selector, d.spec.template.metadata.labels)).toBe(true);
        expect(svc.spec.ports).toEqual([{ name: 'http', port: HTTP_PORT[component(svc)], targetPort: 'http' }]);
      }
    });

    it('migrates on every upgrade: an init container of the recorder, with the schema owner only there', () => {
      // no Job: its pod template is immutable, so re-applying with a new tag would fail
      expect(ofKind('Job')).toEqual([]);
      for (const d of deployments) {
        const init = d.spec.template.spec.initContainers ?? [];
        if (component(d) !== 'recorder') {
          expect(init).toEqual([]);
          continue;
        }
        expect(init).toHaveLength(1);
        expect(init[0].command).toEqual(['node', 'dist/apps/cli/src/main.js', 'migrate']);
        expect(init[0].image).toBe(d.spec.template.spec.containers[0].image);
        expect(init[0].env).toEqual([
          {
            name: 'AGENTOS_PG_URL',
            valueFrom: { secretKeyRef: { name: 'agentos-secrets', key: 'AGENTOS_MIGRATE_PG_URL' } },
          },
          {
            // partitions on other servers, also with the owner's credentials (optional)
            name: 'AGENTOS_PG_PARTITIONS',
            valueFrom: {
              secretKeyRef: { name: 'agentos-secrets', key: 'AGENTOS_MIGRATE_PG_PARTITIONS', optional: true },
            },
          },
        ]);
        expect(init[0].envFrom).toEqual([{ configMapRef: { name: 'agentos-config' } }]);
      }
    });

    it('ships the production NATS permissions: one credential per service, the authority only to the kernel', () => {
      for (const d of deployments) {
        const s = component(d);
        const spec = d.spec.template.spec;
        const env = Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e.value]));
        expect(env.AGENTOS_NATS_CREDS).toBe('/auth/nats.creds');
        const secrets = spec.volumes.map((v: any) => v.secret?.secretName);
        expect(secrets).toContain(`agentos-nats-${s}`);
        expect(secrets.includes('agentos-nats-authority')).toBe(s === 'kernel');
        expect(env.AGENTOS_NATS_AUTHORITY !== undefined).toBe(s === 'kernel');
        const creds = spec.volumes.find((v: any) => v.secret?.secretName === `agentos-nats-${s}`);
        expect(creds.secret.items).toEqual([{ key: `${s}.creds`, path: 'nats.creds' }]);
        expect(spec.containers[0].volumeMounts).toContainEqual({
          name: creds.name,
          mountPath: '/auth',
          readOnly: true,
        });
      }
    });

    it('lets nothing in but Prometheus on the HTTP port, and nothing out but NATS, Postgres and DNS', () => {
      const [np, ...more] = ofKind('NetworkPolicy');
      expect(more).toEqual([]);
      expect(np.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
      for (const w of workloads) {
        const labels =
          w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template.metadata.labels : w.spec.template.metadata.labels;
        expect(selects(np.spec.podSelector.matchLabels, labels)).toBe(true);
      }
      expect(np.spec.ingress).toHaveLength(1);
      expect(np.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 'http' }]);
      expect(np.spec.ingress[0].from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
      for (const d of deployments) expect(d.spec.template.spec.containers[0].ports[0].name).toBe('http');
      const egress = np.spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();
      expect(egress).toEqual(['TCP/4222', 'TCP/53', 'TCP/5432', 'UDP/53']);
    });

    it('signs an audit checkpoint every hour onto a volume, with the key from a Secret', () => {
      const [cj, ...more] = ofKind('CronJob');
      expect(more).toEqual([]);
      expect(cj.spec.concurrencyPolicy).toBe('Forbid');
      expect(cj.spec.suspend ?? false).toBe(overlay === 'dev');
      const pod = cj.spec.jobTemplate.spec.template.spec;
      const c = pod.containers[0];
      expect(c.command.join(' ')).toMatch(
        /node dist\/apps\/cli\/src\/main\.js audit checkpoint --key \/keys\/checkpoint-key\.pem\s+--out "\/checkpoints\//,
      );
      const volumeAt = (mountPath: string) => {
        const m = c.volumeMounts.find((x: any) => x.mountPath === mountPath);
        return pod.volumes.find((v: any) => v.name === m.name);
      };
      expect(volumeAt('/keys').secret.secretName).toBe('agentos-checkpoint-key');
      expect(volumeAt('/keys').secret.items).toEqual([{ key: 'checkpoint-key.pem', path: 'checkpoint-key.pem' }]);
      expect(volumeAt('/auth').secret.secretName).toBe('agentos-nats-operator');
      expect(volumeAt('/checkpoints').persistentVolumeClaim.claimName).toBe('agentos-checkpoints');
      expect(c.env).toContainEqual({ name: 'AGENTOS_NATS_CREDS', value: '/auth/nats.creds' });
    });

    it(`${overlay === 'prod' ? 'scrapes' : 'leaves out the prometheus-operator objects but annotates'} /metrics`, () => {
      for (const d of deployments) {
        const a = d.spec.template.metadata.annotations;
        expect(a['prometheus.io/port']).toBe(String(HTTP_PORT[component(d)]));
        expect(a['prometheus.io/path']).toBe('/metrics');
      }
      const monitors = ofKind('ServiceMonitor');
      if (overlay === 'dev') {
        expect(objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
        return;
      }
      expect(monitors).toHaveLength(1);
      const sm = monitors[0];
      expect(sm.spec.namespaceSelector).toBeUndefined(); // its own namespace, where the Services are
      for (const svc of ofKind('Service')) {
        expect(selects(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
        for (const ep of sm.spec.endpoints) {
          expect(svc.spec.ports.map((p: any) => p.name)).toContain(ep.port);
          expect(ep.path).toBe('/metrics');
        }
      }
      const [rule] = ofKind('PrometheusRule');
      const alerts = parseYaml(readFileSync(path.join(root, 'deploy/monitoring/agentos-alerts.yaml'), 'utf8'));
      expect(rule.spec).toEqual(alerts);
    });

    it(`configures the ${overlay} environment`, () => {
      const cm = ofKind('ConfigMap')[0].data;
      if (overlay === 'dev') {
        expect(cm.AGENTOS_LOG_LEVEL).toBe('debug');
        expect(cm.AGENTOS_FAIL_CLOSED).toBeUndefined();
        for (const h of ofKind('HorizontalPodAutoscaler')) expect(h.spec.minReplicas).toBe(1);
      } else {
        expect(cm.AGENTOS_LOG_LEVEL).toBe('info');
        expect(cm.AGENTOS_FAIL_CLOSED).toBe('true');
      }
      // every value a string (envFrom takes only strings)
      for (const v of Object.values(cm)) expect(typeof v).toBe('string');
    });
  });

  it('documents the operator-created Secrets with the commands that create them', () => {
    const docs = readFileSync(path.join(root, 'docs/operations.md'), 'utf8');
    const config = readFileSync(path.join(k8s, 'base/config.yaml'), 'utf8');
    for (const s of OPERATOR_SECRETS) {
      expect(config).toContain(`create secret generic ${s} `);
      expect(docs).toContain(`create secret generic ${s} `);
    }
    expect(docs).toContain('kubectl apply -k deploy/k8s/overlays/prod');
    expect(docs).toContain('kubectl apply -k deploy/k8s/overlays/dev');
  });
});

/** What each image used by docker-compose.yml runs its health check with (facts of those images). */
const IMAGE_HAS: Record<string, string[]> = {
  // the official postgres images put the server's bin directory (pg_isready) on PATH
  'postgres:15': ['pg_isready'],
  // the alpine variant has busybox (wget, sh); the scratch one has no shell and no wget
  'nats:2.10-alpine': ['wget'],
  // our Dockerfile: node:20-bookworm-slim, WORKDIR /app, dist/ built in
  'agentos:local': ['node'],
};

function hostPort(mapping: string): number {
  // `${VAR:-14222}:4222`, `127.0.0.1:15432:5432`, `4222`
  const resolved = mapping.replace(/\$\{[A-Z_]+:-([^}]+)\}/g, '$1');
  const parts = resolved.split(':');
  return Number(parts.length === 1 ? parts[0] : parts[parts.length - 2]);
}

describe('docker-compose.yml', () => {
  const c = parseYamlDocs(path.join(root, 'docker-compose.yml'))[0] as Record<string, any>;
  const services = c.services as Record<string, Record<string, any>>;

  it('brings up Postgres, operator-mode NATS, the migration and the four services', () => {
    expect(Object.keys(services).sort()).toEqual([
      'cli',
      'kernel',
      'migrate',
      'nats',
      'nats-auth',
      'policy',
      'postgres',
      'recorder',
      'vfs',
    ]);
    expect(services.nats.command).toEqual(['-c', '/auth/nats-server.conf']);
    expect(services['nats-auth'].command.join(' ')).toContain('nats-auth init');
    expect(services['nats-auth'].command.join(' ')).toContain('--monitor-port 8222');
    expect(services.migrate.command).toEqual(['node', 'dist/apps/cli/src/main.js', 'migrate']);
    for (const s of SERVICES) expect(services[s].command.join(' ')).toContain(`dist/apps/${s}/src/main.js`);
  });

  it('ships the production NATS permissions: one credential per service, the authority only to the kernel', () => {
    const creds = SERVICES.map((s) => services[s].environment.AGENTOS_NATS_CREDS);
    expect(creds).toEqual(['/auth/kernel.creds', '/auth/policy.creds', '/auth/recorder.creds', '/auth/vfs.creds']);
    expect(services.kernel.environment.AGENTOS_NATS_AUTHORITY).toBe('/auth/authority.json');
    for (const s of ['policy', 'recorder', 'vfs'])
      expect(services[s].environment.AGENTOS_NATS_AUTHORITY).toBeUndefined();
    expect(services.cli.environment.AGENTOS_NATS_CREDS).toBe('/auth/operator.creds');
    expect(JSON.stringify(c)).not.toMatch(/change-me|agentos-services/);
  });

  it('runs each health check with a command its image has', () => {
    const checked: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      if (!s.healthcheck) continue;
      const image = s.image as string;
      expect(IMAGE_HAS[image]).toBeDefined();
      const [form, ...argv] = s.healthcheck.test as string[];
      expect(['CMD', 'CMD-SHELL']).toContain(form);
      const words = form === 'CMD' ? argv : argv[0].split(/\s+/);
      expect(IMAGE_HAS[image]).toContain(words[0]);
      checked.push(name);
      if (image !== 'agentos:local') continue;
      // our own: `node dist/apps/cli/src/main.js health --port <the service's port>`
      expect(words.slice(0, 3)).toEqual(['node', 'dist/apps/cli/src/main.js', 'health']);
      expect(words.slice(3)).toEqual(['--port', String(HTTP_PORT[name])]);
    }
    expect(checked.sort()).toEqual(['kernel', 'nats', 'policy', 'postgres', 'recorder', 'vfs']);
    // the nats health check asks the monitoring port that nats-auth init writes into the config
    expect(services.nats.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8222/healthz');
  });

  it('has a CLI that registers the `health` command with --port', () => {
    const main = readFileSync(path.join(root, 'apps/cli/src/main.ts'), 'utf8');
    expect(main).toMatch(/import \{ registerHealth \} from '\.\/commands\/health\.command\.js';/);
    expect(main).toMatch(/^registerHealth\(program, out\);$/m);
    const health = readFileSync(path.join(root, 'apps/cli/src/commands/health.command.ts'), 'utf8');
    expect(health).toMatch(/\.command\('health'\)/);
    expect(health).toMatch(/\.option\('--port <port>'/);
    expect(health).toMatch(/\/health\/ready/);
  });

  it('publishes neither Postgres nor NATS on their standard host ports', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      ((s.ports ?? []) as (string | number)[]).map((p) => ({ name, port: hostPort(String(p)) })),
    );
    expect(published).toEqual([{ name: 'nats', port: 14222 }]);
    expect(services.nats.ports).toEqual(['${AGENTOS_HOST_NATS_PORT:-14222}:4222']);
    for (const { port } of published) expect([4222, 5432, 6222, 8222]).not.toContain(port);
  });

  it('has depends_on conditions that can all be met', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = s.depends_on ?? {};
      expect(Array.isArray(deps)).toBe(false); // the long form, with a condition
      for (const [dep, { condition }] of Object.entries(deps as Record<string, { condition: string }>)) {
        const target = services[dep];
        expect({ name, dep, exists: target !== undefined }).toEqual({ name, dep, exists: true });
        // a dependency outside every profile, so `docker compose up` starts it
        expect(target.profiles).toBeUndefined();
        if (condition === 'service_healthy') expect(target.healthcheck).toBeDefined();
        else if (condition === 'service_completed_successfully') {
          // a one-shot: not restarted, so it can complete
          expect(target.restart).toBeUndefined();
          expect(target.healthcheck).toBeUndefined();
        } else expect(condition).toBe('service_started');
      }
    }
    for (const s of SERVICES)
      expect(services[s].depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        nats: { condition: 'service_healthy' },
      });
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.nats.depends_on).toEqual({ 'nats-auth': { condition: 'service_completed_successfully' } });
  });
});
