import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parse as parseYaml } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const monitoring = path.join(root, 'deploy/monitoring');
const RULES = path.join(monitoring, 'agentos-alerts.yaml');
const RULE_TESTS = path.join(monitoring, 'agentos-alerts.test.yaml');
const DASHBOARD = path.join(monitoring, 'agentos-dashboard.json');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * Every series name the services expose: what the source registers with `metrics.counter(`,
 * `.histogram(` or `.gauge(` (a histogram exposes _bucket, _sum and _count), and prom-client's
 * default metrics (collected here the way libs/observability does), plus Prometheus's own `up`.
 */
async function exportedSeries(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const register = /\.(counter|histogram|gauge)(?:<[^>]*>)?\(\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/g;
  for (const f of [...sourceFiles(path.join(root, 'apps')), ...sourceFiles(path.join(root, 'libs'))]) {
    for (const m of readFileSync(f, 'utf8').matchAll(register)) {
      const where = path.relative(root, f);
      if (m[1] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.set(m[2] + s, where);
      else names.set(m[2], where);
    }
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const m of await registry.getMetricsAsJSON()) {
    // the typings call `type` an enum; at run time it is the exposition type's name
    const type = String(m.type);
    const suffixes =
      type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
    for (const s of suffixes) names.set(m.name + s, 'prom-client');
  }
  names.set('up', 'prometheus');
  return names;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (Grafana variables allowed). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' '); // Grafana variables
  const out: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2]) continue; // a function or an aggregation
    if (KEYWORDS.has(m[1].toLowerCase())) continue;
    out.push(m[1]);
  }
  return out;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('monitoring (deploy/monitoring)', () => {
  let exported: Map<string, string>;
  beforeAll(async () => {
    exported = await exportedSeries();
  });
  const groups = (parseYaml(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
  const rules = groups.flatMap((g) => g.rules);
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Record<string, any>;
  const panels = (dashboard.panels as Record<string, any>[]).filter((p) => p.type !== 'row');

  it('finds the exported metrics in the source (the collection itself works)', () => {
    for (const n of [
      'agentos_syscalls_total',
      'agentos_syscall_duration_seconds_bucket',
      'agentos_recorder_commit_seconds_bucket',
      'agentos_recorder_appends_total',
      'agentos_feed_delay_seconds_bucket',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(exported.has(n)).toBe(true);
  });

  it('reads metric names out of PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{x="y(z)",job=~"$job"}[$__rate_interval]))) > 1e3' +
          ' and on () group_left () b offset 6h or absent(up{job="k"}) / ignoring(le) c',
      ),
    ).toEqual(['a_bucket', 'b', 'up', 'c']);
  });

  it('alerts only on metrics the services export', () => {
    for (const r of rules) {
      const used = metricNames(r.expr);
      expect({ alert: r.alert, selects: used.length > 0 }).toEqual({ alert: r.alert, selects: true });
      for (const n of used)
        expect({ alert: r.alert, metric: n, exported: exported.has(n) }).toMatchObject({ exported: true });
      // rules are written against metric names, not the label the services attach per process
      expect(r.expr).not.toMatch(/\binstance\s*[=!]~?|\bservice_instance\b|\bby\s*\([^)]*\binstance\b/);
    }
  });

  it('covers what operators must be woken for', () => {
    expect(rules.every((r) => r.alert && r.labels?.severity && r.annotations?.summary)).toBe(true);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    const all = rules.map((r) => r.expr).join('\n');
    for (const needle of [
      /agentos_syscalls_total\{outcome=~"-4\|-7"\}/, // error rate by code
      /agentos_syscall_duration_seconds_bucket/, // p99 latency
      /agentos_recorder_commit_seconds_bucket/,
      /agentos_recorder_queue_wait_seconds_bucket/,
      /agentos_recorder_appends_total\{outcome="unavailable"\}/,
      /agentos_recorder_appends_total\{outcome="overloaded"\}/,
      /agentos_feed_delay_seconds_bucket/, // replay lag
      /up\{job=~"agentos-\.\+"\} == 0/, // readiness down
      /process_resident_memory_bytes/, // memory growth
      /agentos_kernel_conflicts_total/,
    ])
      expect(all).toMatch(needle);
  });

  it('has a dashboard templated on its Prometheus data source, on exported metrics only', () => {
    const vars = dashboard.templating.list as Record<string, any>[];
    const dsVar = vars.find((v) => v.type === 'datasource');
    expect(dsVar).toMatchObject({ name: 'datasource', query: 'prometheus' });
    expect(dashboard.uid).toBe('agentos-overview');
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const used = new Set<string>();
    for (const p of panels) {
      expect({ panel: p.title, ds: p.datasource }).toEqual({
        panel: p.title,
        ds: { type: 'prometheus', uid: '${datasource}' },
      });
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.datasource).toEqual(p.datasource);
        const names = metricNames(t.expr);
        expect(names.length).toBeGreaterThan(0);
        for (const n of names) {
          expect({ panel: p.title, metric: n, exported: exported.has(n) }).toMatchObject({ exported: true });
          used.add(n);
        }
      }
    }
    for (const v of vars.filter((x) => x.type === 'query')) {
      expect(v.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const n of metricNames(v.query.query.replace(/^label_values\((.*),\s*\w+\)$/, '$1')))
        expect(exported.has(n)).toBe(true);
    }
    for (const n of [
      'agentos_syscalls_total',
      'agentos_syscall_duration_seconds_bucket',
      'agentos_recorder_appends_total',
      'agentos_recorder_commit_seconds_bucket',
      'agentos_recorder_queue_wait_seconds_bucket',
      'agentos_feed_delay_seconds_bucket',
      'agentos_kernel_conflicts_total',
      'process_resident_memory_bytes',
      'up',
    ])
      expect(used.has(n)).toBe(true);
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  const hasPromtool = promtool.status === 0;
  if (!hasPromtool)
    process.stderr.write(
      'deploy-monitoring: promtool is not installed (Debian: apt-get install prometheus); ' +
        '`promtool check rules` and `promtool test rules` are skipped, the structural checks above still ran\n',
    );
  (hasPromtool ? it : it.skip)('passes `promtool check rules` and the rules unit tests (promtool test rules)', () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect({ status: check.status, out: check.stdout + check.stderr }).toMatchObject({ status: 0 });
    const test = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8', cwd: monitoring });
    expect({ status: test.status, out: test.stdout + test.stderr }).toMatchObject({ status: 0 });
  });
});
