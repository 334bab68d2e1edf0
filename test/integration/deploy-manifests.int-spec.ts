import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = path.join(root, 'deploy/k8s');

function docs(file: string): Record<string, any>[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS() as Record<string, any>;
  });
}

/** The deployment files operators apply: well-formed, and pointing at things that exist. */
describe('deployment manifests', () => {
  const all = readdirSync(k8s)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => docs(path.join(k8s, f)).map((d) => ({ file: f, d })))
    .filter((x) => x.d !== null);

  it('has a Deployment with probes, resources and graceful termination for each of the four services', () => {
    const deployments = all.filter((x) => x.d.kind === 'Deployment');
    expect(deployments.map((x) => x.d.metadata.name).sort()).toEqual([
      'agentos-kernel',
      'agentos-policy',
      'agentos-recorder',
      'agentos-vfs',
    ]);
    for (const { d } of deployments) {
      const c = d.spec.template.spec.containers[0];
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.requests.memory).toBeDefined();
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
      const entry = c.command[1] as string;
      expect(existsSync(path.join(root, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
      expect(c.envFrom.map((e: any) => Object.keys(e)[0]).sort()).toEqual(['configMapRef', 'secretRef']);
    }
  });

  it('has a Service per Deployment and a migration Job', () => {
    const services = all.filter((x) => x.d.kind === 'Service').map((x) => x.d.metadata.name);
    expect(services.sort()).toEqual(['agentos-kernel', 'agentos-policy', 'agentos-recorder', 'agentos-vfs']);
    const job = all.find((x) => x.d.kind === 'Job')!.d;
    expect(job.spec.template.spec.containers[0].command).toEqual(['node', 'dist/apps/cli/src/main.js', 'migrate']);
  });

  it('lists every manifest in the kustomization', () => {
    const k = docs(path.join(k8s, 'kustomization.yaml'))[0];
    expect([...k.resources].sort()).toEqual(
      readdirSync(k8s)
        .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
        .sort(),
    );
  });

  it('docker-compose brings up Postgres, operator-mode NATS, the migration and the four services', () => {
    const c = docs(path.join(root, 'docker-compose.yml'))[0];
    expect(Object.keys(c.services).sort()).toEqual([
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
    expect(c.services.nats.command).toEqual(['-c', '/auth/nats-server.conf']);
    expect(c.services['nats-auth'].command.join(' ')).toContain('nats-auth init');
    for (const s of ['kernel', 'policy', 'recorder', 'vfs'])
      expect(c.services[s].command.join(' ')).toContain(`dist/apps/${s}/src/main.js`);
  });

  it('ships the production NATS permissions: one credential per service, the authority only to the kernel', () => {
    const c = docs(path.join(root, 'docker-compose.yml'))[0];
    const creds = ['kernel', 'policy', 'recorder', 'vfs'].map((s) => c.services[s].environment.AGENTOS_NATS_CREDS);
    expect(creds).toEqual(['/auth/kernel.creds', '/auth/policy.creds', '/auth/recorder.creds', '/auth/vfs.creds']);
    expect(c.services.kernel.environment.AGENTOS_NATS_AUTHORITY).toBe('/auth/authority.json');
    for (const s of ['policy', 'recorder', 'vfs'])
      expect(c.services[s].environment.AGENTOS_NATS_AUTHORITY).toBeUndefined();
    for (const { d } of all.filter((x) => x.d.kind === 'Deployment')) {
      const component = d.metadata.labels['app.kubernetes.io/component'];
      const spec = d.spec.template.spec;
      const env = Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e.value]));
      expect(env.AGENTOS_NATS_CREDS).toBe('/auth/nats.creds');
      const secrets = spec.volumes.map((v: any) => v.secret?.secretName);
      expect(secrets).toContain(`agentos-nats-${component}`);
      expect(secrets.includes('agentos-nats-authority')).toBe(component === 'kernel');
    }
    // no shared services user, and no secret values in the base
    expect(JSON.stringify(all.map((x) => x.d))).not.toMatch(/change-me|agentos-services/);
  });
});
