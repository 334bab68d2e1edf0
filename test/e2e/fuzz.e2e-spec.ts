import { randomUUID } from 'node:crypto';
import { ErrorCode, Subjects, readFeedHint, type SyscallReply } from '#contracts';
import { POSITION_PATTERN } from '../support/positions.js';
import { TEST_PARTITIONS } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';
import {
  PROTOTYPE_NAMES,
  SeededRandom,
  deepArrayText,
  deepObjectText,
  describeBody,
  genericHostileBodies,
  hostileValues,
  mutateBytes,
  objectText,
  randomJsonText,
  str,
  type RawCase,
} from '../support/hostile-bodies.js';

/**
 * Fuzzes every request subject of a running deployment (the four services as processes) with
 * hand-written hostile bodies and seeded random ones, publishes garbage on the commit feed and
 * on signal subjects, then checks that the deployment is still whole: every process up and
 * ready, an agent created before the storm still works, the log verifies and reads end to end,
 * the kernel's memory stays bounded.
 *
 * Every request must be answered within REPLY_DEADLINE_MS with JSON of the subject's shape:
 * syscalls `{id, success, returnValue, errorCode, errorMessage, executionTimeMs, position?}`,
 * everything else a plausible result or `{error: {code, message}}` with a protocol code. A -4
 * ("the handler failed") for input the caller chose is a defect: it is listed as a finding.
 *
 * AGENTOS_FUZZ_SEED=<n> replays another seed; the seed is printed with every failure.
 */
const SEED = Number(process.env.AGENTOS_FUZZ_SEED ?? 0x5eed_f022);
const RANDOM_CASES_PER_SUBJECT = Number(process.env.AGENTOS_FUZZ_RANDOM ?? 24);
const REPLY_DEADLINE_MS = 10_000;
const CONCURRENCY = 12;
const MAX_REQUEST_BYTES = 256 * 1024;
/**
 * Resident memory of the kernel after the storm. Idle, a service takes ~100-150 MB; the storm
 * sends it well over 150 MB of bodies (one 1 MiB body per subject and kind, 200-600 KB deep ones),
 * of which at most CONCURRENCY are legitimately alive at once (~12 MB, a few times that once
 * parsed). 400 MB leaves room for the heap to grow and not be returned yet, yet a kernel that
 * kept bodies, replies or parsed values per request would pass it.
 */
const MAX_KERNEL_RSS_BYTES = 400 * 1024 * 1024;

const PROTOCOL_CODES = new Set<number>(Object.values(ErrorCode));
const VICTIM = 'survivor_1';
const FUZZ_AGENTS = ['fz0', 'fz1', 'fz2'];

type Json = Record<string, unknown>;
type ResultCheck = (r: Json) => boolean;

interface Finding {
  subject: string;
  label: string;
  body: string;
  problem: string;
  reply: string;
}

interface Target {
  /** Protocol subject (prefix substituted when sent). */
  subject: string;
  kind: 'syscall' | 'api';
  /** Valid-ish bodies as `[field, raw JSON]`: each field is replaced by each hostile value, or dropped. */
  templates: [string, string][][];
  ok: ResultCheck;
}

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

const ALLOW_ALL_POLICY = [
  'apiVersion: agentos/v1',
  'name: fuzz-allow',
  'defaults: { effect: allow, onViolation: deny }',
].join('\n');

/** Every request subject with bodies close to valid and the shape of a successful reply. */
function targets(): Target[] {
  const agent = str('fz0');
  const okPage: ResultCheck = (r) => Array.isArray(r.events) && isObj(r.head);
  const okHead: ResultCheck = (r) => isNum(r.position) && isStr(r.hash);
  const okPolicyChange: ResultCheck = (r) => isStr(r.status) && isNum(r.version);
  return [
    {
      subject: Subjects.adminAgentsCreate,
      kind: 'api',
      templates: [
        [
          ['agentId', str('fzc')],
          ['role', str('worker')],
        ],
      ],
      ok: (r) => isStr(r.agentId) && isStr(r.role) && isStr(r.state),
    },
    {
      subject: Subjects.adminAgentsGet,
      kind: 'api',
      templates: [[['agentId', agent]]],
      ok: (r) => isStr(r.agentId) && isStr(r.state) && isNum(r.version),
    },
    {
      subject: Subjects.adminAgentsDigest,
      kind: 'api',
      templates: [[['agentId', agent]]],
      ok: (r) => isStr(r.agentId) && isStr(r.digest),
    },
    {
      subject: Subjects.adminAgentsSignal,
      kind: 'api',
      templates: [
        [
          ['agentId', str('fz1')],
          ['signal', str('SIGUSR1')],
          ['reason', str('fuzz')],
        ],
        [
          ['agentId', str('fz2')],
          ['signal', '6'],
        ],
      ],
      ok: (r) => typeof r.delivered === 'boolean' && isStr(r.state),
    },
    {
      subject: Subjects.adminAgentsDestroy,
      kind: 'api',
      templates: [
        [
          ['agentId', str('fz2')],
          ['reason', str('fuzz')],
        ],
      ],
      ok: (r) => isStr(r.agentId) && r.state === 'terminated',
    },
    {
      subject: Subjects.adminAgentsList,
      kind: 'api',
      templates: [[['after', str('fz')]]],
      ok: (r) => Array.isArray(r.agents),
    },
    {
      subject: Subjects.adminToolsRegister,
      kind: 'api',
      templates: [
        [
          ['name', str('fuzz_tool')],
          ['description', str('d')],
        ],
      ],
      ok: (r) => isStr(r.name),
    },
    { subject: Subjects.adminToolsList, kind: 'api', templates: [[]], ok: (r) => Array.isArray(r.tools) },
    {
      subject: Subjects.adminKernelMetrics,
      kind: 'api',
      templates: [[]],
      ok: (r) => isNum(r.syscallCount) && isNum(r.uptimeSeconds),
    },
    {
      subject: Subjects.policyValidate,
      kind: 'api',
      templates: [
        [
          ['document', str(ALLOW_ALL_POLICY)],
          ['format', str('yaml')],
        ],
      ],
      ok: (r) => typeof r.valid === 'boolean',
    },
    {
      subject: Subjects.policyApply,
      kind: 'api',
      templates: [
        [
          ['document', str(ALLOW_ALL_POLICY)],
          ['format', str('yaml')],
          ['appliedBy', str('fuzz')],
          ['reason', str('fuzz')],
        ],
      ],
      ok: okPolicyChange,
    },
    {
      subject: Subjects.policyList,
      kind: 'api',
      templates: [[]],
      ok: (r) => Array.isArray(r.versions),
    },
    {
      subject: Subjects.policyShow,
      kind: 'api',
      templates: [[['version', '1']]],
      ok: (r) => isNum(r.version),
    },
    {
      subject: Subjects.policyDiff,
      kind: 'api',
      templates: [
        [
          ['from', '1'],
          ['to', '1'],
        ],
      ],
      ok: (r) => typeof r.identical === 'boolean',
    },
    {
      subject: Subjects.policyRollback,
      kind: 'api',
      templates: [
        [
          ['version', '1'],
          ['appliedBy', str('fuzz')],
          ['reason', str('fuzz')],
        ],
      ],
      ok: okPolicyChange,
    },
    { subject: Subjects.policySchema, kind: 'api', templates: [[]], ok: (r) => Object.keys(r).length > 0 },
    {
      subject: Subjects.auditQuery,
      kind: 'api',
      templates: [
        [
          ['agentId', agent],
          ['syscall', str('SYS_WRITE')],
          ['decision', str('allowed')],
          ['limit', '10'],
        ],
        [
          ['from', str('2020-01-01T00:00:00Z')],
          ['to', str('2999-01-01T00:00:00Z')],
          ['after', '0'],
          ['toPosition', '100000'],
          ['types', '["SyscallRecorded"]'],
          ['rule', str('r')],
          ['policyVersion', '1'],
        ],
      ],
      ok: (r) => okPage(r) && 'next' in r,
    },
    {
      subject: Subjects.auditStats,
      kind: 'api',
      templates: [
        [
          ['agentId', agent],
          ['after', '0'],
          ['types', '["SyscallRecorded"]'],
        ],
      ],
      ok: (r) => Object.keys(r).length > 0,
    },
    { subject: Subjects.auditHead, kind: 'api', templates: [[]], ok: okHead },
    {
      subject: Subjects.recorderAppend,
      kind: 'api',
      templates: [
        [
          [
            'appends',
            `[{"streamId":"fuzz:s","expectedVersion":"any","events":[{"eventId":${str(randomUUID())},"type":"FuzzEvent","schemaVersion":1,"data":{}}]}]`,
          ],
          ['conditions', '[{"streamId":"fuzz:c","version":0}]'],
          ['deadline', String(Date.now() + 60_000)],
        ],
      ],
      ok: (r) => isStr(r.status),
    },
    {
      subject: Subjects.recorderReadStream,
      kind: 'api',
      templates: [
        [
          ['streamId', str('agent:fz0')],
          ['fromVersion', '1'],
          ['toVersion', '5'],
          ['limit', '10'],
        ],
      ],
      ok: okPage,
    },
    {
      subject: Subjects.recorderReadAll,
      kind: 'api',
      templates: [
        [
          ['after', '0'],
          ['toPosition', '50'],
          ['limit', '10'],
          ['types', '["AgentCreated"]'],
          ['streamPrefix', str('agent:')],
        ],
      ],
      ok: okPage,
    },
    { subject: Subjects.recorderHead, kind: 'api', templates: [[]], ok: okHead },
    {
      subject: Subjects.recorderVerify,
      kind: 'api',
      templates: [
        [
          ['from', '1'],
          ['to', '20'],
        ],
        [['from', '1000000']],
      ],
      ok: (r) => typeof r.ok === 'boolean' && isNum(r.checked),
    },
    {
      subject: Subjects.recorderHealth,
      kind: 'api',
      templates: [[]],
      ok: (r) => isStr(r.status) && isObj(r.checks),
    },
    {
      // a batch of items, each answered on its own (a bad item gets its own error)
      subject: Subjects.vfsExecute,
      kind: 'api',
      templates: [
        [
          [
            'items',
            `[{"agentId":${agent},"base":{"version":0,"eventId":null},"eventId":"e1","version":2,"syscall":"SYS_WRITE","args":{"path":"/mem/working/v","data":"x"},"at":"2025-01-01T00:00:00Z"}]`,
          ],
        ],
        [
          [
            'items',
            '[{"agentId":"fz1","base":{"version":0,"eventId":null},"eventId":"e2","version":1,"syscall":"SYS_READ","args":{"path":"/mem/working/v"},"at":"2025-01-01T00:00:00Z"}, 7]',
          ],
        ],
      ],
      ok: (r) =>
        Array.isArray(r.results) &&
        (r.results as Record<string, unknown>[]).every(
          (x) =>
            x.status === 'ok' || x.status === 'stale' || (isObj(x.error) && isNum((x.error as { code: unknown }).code)),
        ),
    },
    {
      subject: Subjects.vfsState,
      kind: 'api',
      templates: [
        [
          ['agentId', agent],
          ['base', '{"version":0,"eventId":null}'],
        ],
      ],
      ok: (r) => isStr(r.agentId) && isStr(r.digest) && Array.isArray(r.files),
    },
  ];
}

/** Syscall bodies: the envelope's fields, then each syscall's arguments, one at a time. */
function syscallTemplates(): [string, string][][] {
  const bodies: [string, string][] = [
    ['SYS_WRITE', '{"path":"/mem/working/f.txt","data":"x","mode":"a","encoding":"utf8"}'],
    ['SYS_READ', '{"path":"/mem/working/f.txt","encoding":"base64"}'],
    ['SYS_OPEN', '{"path":"/mem/episodic/o.txt","mode":"w"}'],
    ['SYS_CLOSE', '{"fd":1}'],
    ['SYS_STAT', '{"path":"/mem/working"}'],
    ['SYS_EXEC', '{"tool":"fuzz_tool","args":{"q":1},"inputPrompt":"p"}'],
    ['SYS_SIGNAL', '{"signal":"SIGUSR1","target":"fz1","reason":"r"}'],
    ['SYS_SIGACTION', '{"signal":"SIGUSR2","action":"ignore"}'],
    ['SYS_SIGPROCMASK', '{"how":"block","signals":["SIGUSR1"]}'],
    ['SYS_CHECKPOLICY', '{"action":"file_write","target":"t","args":{"path":"/mem/working/x"}}'],
    ['SYS_GETPOLICY', '{"action":"file_read"}'],
    ['SYS_SEND', '{"to":"fz1","message":"m"}'],
    ['SYS_EXIT', '{"code":0}'],
  ];
  return bodies.map(([syscall, args]) => [
    ['id', str('fz-id')],
    ['syscall', str(syscall)],
    ['args', args],
  ]);
}

/** The fields of a raw JSON object text of one level (the templates' `args`), for per-argument fuzzing. */
function argFields(argsText: string): [string, string][] {
  const parsed = JSON.parse(argsText) as Json;
  return Object.entries(parsed).map(([k, v]) => [k, JSON.stringify(v)]);
}

interface Probe {
  subject: string;
  kind: 'syscall' | 'api';
  label: string;
  body: string | Uint8Array;
  ok: ResultCheck;
}

/** Every probe of the storm, in a deterministic order for the seed. */
function buildProbes(rng: SeededRandom, maxPayload: number): Probe[] {
  const probes: Probe[] = [];
  const generic = genericHostileBodies(maxPayload, MAX_REQUEST_BYTES);
  const values = hostileValues();
  const syscallTokens = [...FUZZ_AGENTS, ...PROTOTYPE_NAMES.slice(0, 3), 'ghost', 'x'.repeat(200)];
  let nextToken = 0;
  const syscallSubject = () => Subjects.syscall(syscallTokens[nextToken++ % syscallTokens.length]);
  const syscallOk: ResultCheck = () => true;

  const all: Target[] = [
    ...targets(),
    { subject: '(syscall)', kind: 'syscall', templates: syscallTemplates(), ok: syscallOk },
  ];
  for (const target of all) {
    const subject = () => (target.kind === 'syscall' ? syscallSubject() : target.subject);
    const add = (label: string, body: string | Uint8Array) =>
      probes.push({ subject: subject(), kind: target.kind, label, body, ok: target.ok });
    for (const g of generic) add(g.label, g.body);
    for (const [ti, fields] of target.templates.entries()) {
      const t = `template ${ti}`;
      add(`${t} as is`, objectText(fields));
      for (const [fi, [name]] of fields.entries()) {
        add(`${t} without ${name}`, objectText(fields.filter((_, j) => j !== fi)));
        for (const [vl, raw] of values) {
          add(`${t} with ${name} = ${vl}`, objectText(fields.map(([k, v], j) => [k, j === fi ? raw : v] as const)));
        }
      }
      for (const p of PROTOTYPE_NAMES) add(`${t} plus key ${p}`, objectText([[p, '{"polluted":1}'], ...fields]));
      add(`${t} with __proto__ first carrying the fields`, objectText([['__proto__', objectText(fields)]]));
      add(`${t} with every field twice`, objectText([...fields, ...fields.map(([k]) => [k, '{}'] as const)]));
      // the syscall arguments, one at a time (prototype names as paths, signals, tools, actions...)
      const argsField = fields.find(([k]) => k === 'args');
      if (target.kind === 'syscall' && argsField) {
        const args = argFields(argsField[1]);
        for (const [ai, [argName]] of args.entries()) {
          for (const [vl, raw] of values) {
            const argsText = objectText(args.map(([k, v], j) => [k, j === ai ? raw : v] as const));
            add(
              `${t} with args.${argName} = ${vl}`,
              objectText(fields.map(([k, v]) => [k, k === 'args' ? argsText : v] as const)),
            );
          }
        }
      }
      // huge strings inside arguments and documents
      if (fields.length > 0)
        add(
          `${t} with a string just under the request limit in every field`,
          objectText(fields.map(([k]) => [k, str('h'.repeat(Math.floor(MAX_REQUEST_BYTES / (fields.length + 1))))])),
        );
    }
    const keys = target.templates.flatMap((f) => f.map(([k]) => k));
    for (let i = 0; i < RANDOM_CASES_PER_SUBJECT; i++) {
      const template = objectText(rng.pick(target.templates));
      if (rng.chance(0.4)) add(`random mutation ${i}`, mutateBytes(rng, template));
      else add(`random value ${i}`, randomJsonText(rng, keys));
    }
  }
  // policy documents are parsed text of their own: depth, aliases and size inside the `document` string
  const laughs = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...Array.from({ length: 9 }, (_, i) => {
      const prev = String.fromCharCode(97 + i);
      const cur = String.fromCharCode(98 + i);
      return `${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`;
    }),
  ].join('\n');
  const documents: [string, string, string][] = [
    ['JSON array nested 100,000 deep', deepArrayText(100_000), 'json'],
    ['JSON object nested 100,000 deep', deepObjectText(40_000), 'json'],
    ['YAML block sequences nested 100,000 deep', '- '.repeat(100_000) + 'x', 'yaml'],
    ['YAML flow mappings nested 100,000 deep', '{a: '.repeat(100_000) + '1' + '}'.repeat(100_000), 'yaml'],
    ['YAML flow sequences nested 100,000 deep', deepArrayText(100_000), 'yaml'],
    ['YAML alias bomb (billion laughs)', laughs, 'yaml'],
    ['YAML with __proto__ keys', '__proto__: {polluted: true}\nconstructor: {prototype: {polluted: true}}', 'yaml'],
    ['JSON with __proto__ keys', '{"__proto__":{"polluted":true},"apiVersion":"agentos/v1","name":"x"}', 'json'],
    ['YAML tags', 'apiVersion: !!js/function "function(){}"\nname: !!binary aGk=', 'yaml'],
    ['lone surrogate in YAML', 'name: "\\ud800"', 'yaml'],
    ['document of 800 KB', 'name: ' + 'n'.repeat(800_000), 'yaml'],
  ];
  for (const subject of [Subjects.policyValidate, Subjects.policyApply]) {
    const ok = targets().find((x) => x.subject === subject)!.ok;
    for (const [label, document, format] of documents) {
      const body = objectText([
        ['document', str(document)],
        ['format', str(format)],
      ]);
      probes.push({ subject, kind: 'api', label: `document: ${label}`, body, ok });
    }
  }
  // shuffle (deterministically) so that slow and fast probes of every service interleave
  for (let i = probes.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [probes[i], probes[j]] = [probes[j], probes[i]];
  }
  return probes;
}

/** What is wrong with a syscall reply, or null. */
function syscallReplyProblem(r: unknown): string | null {
  if (!isObj(r)) return 'reply is not a JSON object';
  if (!(r.id === null || isStr(r.id))) return 'id is neither a string nor null';
  if (typeof r.success !== 'boolean') return 'success is not a boolean';
  if (!('returnValue' in r)) return 'returnValue is missing';
  if (!isNum(r.executionTimeMs) || r.executionTimeMs < 0) return 'executionTimeMs is not a non-negative number';
  if (r.position !== undefined && !(isStr(r.position) && POSITION_PATTERN.test(r.position)))
    return TEST_PARTITIONS > 1 ? 'position is not <partition>:<offset>' : 'position is not a decimal string';
  if (r.success) {
    if (r.errorCode !== null || r.errorMessage !== null) return 'success with an error code or message';
    return null;
  }
  if (typeof r.errorCode !== 'number' || !PROTOCOL_CODES.has(r.errorCode)) return 'errorCode is not a protocol code';
  if (!isStr(r.errorMessage)) return 'errorMessage is not a string';
  if (r.errorCode === ErrorCode.HANDLER_ERROR) return `-4: ${r.errorMessage}`;
  return null;
}

/** What is wrong with an operator/admin reply, or null. */
function apiReplyProblem(r: unknown, ok: ResultCheck): string | null {
  if (!isObj(r)) return 'reply is not a JSON object';
  if ('error' in r) {
    const e = r.error;
    if (!isObj(e)) return 'error is not an object';
    if (typeof e.code !== 'number' || !PROTOCOL_CODES.has(e.code)) return 'error.code is not a protocol code';
    if (!isStr(e.message)) return 'error.message is not a string';
    if (e.code === ErrorCode.HANDLER_ERROR) return `-4: ${e.message}`;
    return null;
  }
  return ok(r) ? null : 'neither an error nor a plausible result';
}

function preview(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

/** Runs `work` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, work: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

function report(findings: Finding[]): string {
  const sorted = [...findings].sort((a, b) => `${a.subject}|${a.label}`.localeCompare(`${b.subject}|${b.label}`));
  const lines = sorted.map(
    (f) => `- ${f.subject} | ${f.label} | ${f.problem}\n    body:  ${f.body}\n    reply: ${f.reply}`,
  );
  return `seed ${SEED} (AGENTOS_FUZZ_SEED=${SEED} replays it): ${findings.length} finding(s)\n${lines.join('\n')}`;
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

describe(`fuzzing every request subject (seed ${SEED})`, () => {
  let t: TestStack;
  let maxPayload = 1024 * 1024;
  const stormFindings: Finding[] = [];
  let probesSent = 0;
  let bytesSent = 0;
  let slowest = { ms: 0, what: '' };

  const sys = (agentId: string, syscall: string, args: Json = {}) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: randomUUID(), syscall, args });

  /** One request; whatever is wrong with its answer becomes a finding. */
  async function probe(p: Probe, findings: Finding[]): Promise<Json | null> {
    const subject = t.subject(p.subject);
    const finding = (problem: string, reply = '') =>
      findings.push({ subject: p.subject, label: p.label, body: describeBody(p.body), problem, reply });
    probesSent += 1;
    bytesSent += typeof p.body === 'string' ? Buffer.byteLength(p.body) : p.body.byteLength;
    let text: string;
    const sentAt = Date.now();
    try {
      const m = await t.nc.request(subject, p.body, { timeout: REPLY_DEADLINE_MS });
      text = new TextDecoder().decode(m.data);
      if (Date.now() - sentAt > slowest.ms) slowest = { ms: Date.now() - sentAt, what: `${p.subject} | ${p.label}` };
    } catch (err) {
      finding(`no reply: ${(err as Error).message}`);
      return null;
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      finding('reply is not JSON', preview(text));
      return null;
    }
    const problem = p.kind === 'syscall' ? syscallReplyProblem(reply) : apiReplyProblem(reply, p.ok);
    if (problem) finding(problem, preview(text));
    return isObj(reply) ? reply : null;
  }

  beforeAll(async () => {
    t = await startTestStack({
      services: ['recorder', 'vfs', 'policy', 'kernel'],
      env: { AGENTOS_TOOL_TIMEOUT_MS: '1000' },
    });
    maxPayload = t.nc.info?.max_payload ?? maxPayload;
    for (const a of [VICTIM, ...FUZZ_AGENTS]) {
      expect(await t.request(Subjects.adminAgentsCreate, { agentId: a, role: 'worker' })).toMatchObject({
        agentId: a,
        state: 'running',
      });
    }
    expect(await t.request(Subjects.adminToolsRegister, { name: 'fuzz_tool' })).toEqual({ name: 'fuzz_tool' });
    expect(await sys(VICTIM, 'SYS_WRITE', { path: '/mem/working/before.txt', data: 'before the storm' })).toMatchObject(
      { success: true },
    );
  });

  afterAll(async () => {
    await t?.close();
  });

  it('treats prototype names as ordinary names: agents, roles, tools, paths, signals, actions, policies', async () => {
    const problems: string[] = [];
    const expectThat = (what: string, cond: boolean, got: unknown) => {
      if (!cond) problems.push(`${what}: got ${preview(JSON.stringify(got) ?? String(got))}`);
    };
    const hostile = PROTOTYPE_NAMES.filter((n) => /^[A-Za-z0-9_-]+$/.test(n));
    // a policy whose roles, rules, actions and rate limits carry those names; `worker` may do anything
    const policy = [
      'apiVersion: agentos/v1',
      'name: __proto__',
      'defaults: { effect: deny, onViolation: deny }',
      'roles:',
      "  worker: { allow: ['*'] }",
      "  __proto__: { allow: ['*'], context: { constructor: 1 } }",
      '  constructor: { allow: [toString] }',
      '  toString: { allow: [constructor, file_write, file_read, syscall_sys_stat] }',
      'rules:',
      '  - name: toString',
      '    match: { actions: [__proto__, valueOf], roles: [__proto__] }',
      '    effect: deny',
      '    onViolation: deny',
      'rateLimits:',
      '  - { name: constructor, match: { actions: [hasOwnProperty] }, perMinute: 1000, onViolation: deny }',
    ].join('\n');
    const applied = await t.request(Subjects.policyApply, { document: policy, format: 'yaml', reason: 'fuzz' });
    expectThat('policy.apply of a policy named __proto__ with prototype-named roles', isNum(applied.version), applied);
    if (isNum(applied.version)) {
      const shown = await t.request(Subjects.policyShow, { version: applied.version });
      expectThat('policy.show of it', shown.version === applied.version, shown);
      const diff = await t.request(Subjects.policyDiff, { from: applied.version, to: applied.version });
      expectThat('policy.diff of it with itself', diff.identical === true, diff);
    }
    // a Map: an object literal's `__proto__:` would set its prototype, not a key
    const roles = new Map<string, string>([
      ['__proto__', '__proto__'],
      ['constructor', 'toString'],
      ['toString', 'constructor'],
      ['valueOf', 'hasOwnProperty'],
      ['hasOwnProperty', 'valueOf'],
      ['isPrototypeOf', 'worker'],
      ['prototype', 'prototype'],
    ]);
    for (const name of hostile) {
      const role = roles.get(name) ?? 'worker';
      const created = await t.request(Subjects.adminAgentsCreate, { agentId: name, role });
      expectThat(`agents.create ${name} (role ${role})`, created.agentId === name && created.role === role, created);
      const got = await t.request(Subjects.adminAgentsGet, { agentId: name });
      expectThat(`agents.get ${name}`, got.agentId === name && got.state === 'running' && got.role === role, got);
      const digest = await t.request(Subjects.adminAgentsDigest, { agentId: name });
      expectThat(`agents.digest ${name}`, digest.agentId === name && isStr(digest.digest), digest);
      const tool = await t.request(Subjects.adminToolsRegister, { name });
      expectThat(`tools.register ${name}`, tool.name === name, tool);
    }
    // roles the policy defines (worker, toString) may write; role-less names fall to the default deny
    for (const [name, path] of [
      ['isPrototypeOf', '/mem/working/__proto__'],
      ['isPrototypeOf', '/mem/working/constructor'],
      ['isPrototypeOf', '/mem/working/toString/valueOf'],
      ['constructor', '/mem/episodic/hasOwnProperty'],
    ] as const) {
      const w = await sys(name, 'SYS_WRITE', { path, data: `data of ${path}` });
      expectThat(`SYS_WRITE ${path} by ${name}`, w.success === true, w);
      const r = await sys(name, 'SYS_READ', { path });
      expectThat(`SYS_READ ${path} by ${name}`, r.returnValue === `data of ${path}`, r);
      const s = await sys(name, 'SYS_STAT', { path });
      expectThat(`SYS_STAT ${path} by ${name}`, isObj(s.returnValue) && s.returnValue.path === path, s);
    }
    for (const p of ['/__proto__', '/mem/__proto__/x', '/constructor/prototype']) {
      const w = await sys('isPrototypeOf', 'SYS_WRITE', { path: p, data: 'x' });
      expectThat(`SYS_WRITE outside every mount (${p})`, w.success === false && w.errorCode === 3, w);
    }
    const decisions: [agent: string, action: string, allowed: boolean][] = [
      ['constructor', 'constructor', true], // role toString allows the action `constructor`
      ['constructor', 'valueOf', false], // not in role toString's list: the default deny
      ['toString', 'toString', true], // role constructor allows `toString`
      ['toString', 'constructor', false],
      ['valueOf', 'toString', false], // role hasOwnProperty is not defined: the default deny
      ['valueOf', 'constructor', false],
      ['hasOwnProperty', 'hasOwnProperty', false], // role valueOf is not defined
      ['prototype', '__proto__', false], // role prototype is not defined
      ['isPrototypeOf', '__proto__', true], // role worker allows '*'
      ['__proto__', 'file_read', true], // role __proto__ allows '*'
      ['__proto__', 'valueOf', false], // rule toString denies valueOf to role __proto__
      ['__proto__', '__proto__', false], // and __proto__
    ];
    for (const [agent, action, allowed] of decisions) {
      const c = await sys(agent, 'SYS_CHECKPOLICY', { action });
      expectThat(
        `SYS_CHECKPOLICY ${action} by ${agent} (role ${roles.get(agent) ?? 'worker'})`,
        c.success === true && isObj(c.returnValue) && c.returnValue.allowed === allowed,
        c,
      );
      const g = await sys(agent, 'SYS_GETPOLICY', { action });
      expectThat(`SYS_GETPOLICY ${action} by ${agent}: a well-formed reply`, syscallReplyProblem(g) === null, g);
    }
    // signal names that are prototype properties are unknown signals (-5), like any other unknown name
    for (const signal of PROTOTYPE_NAMES) {
      const r = await t.request(Subjects.adminAgentsSignal, { agentId: 'isPrototypeOf', signal });
      expectThat(`agents.signal ${signal}`, isObj(r.error) && r.error.code === ErrorCode.INVALID_REQUEST, r);
      const s = await sys('__proto__', 'SYS_SIGACTION', { signal, action: 'ignore' });
      expectThat(`SYS_SIGACTION ${signal}`, s.success === false && s.errorCode === ErrorCode.INVALID_REQUEST, s);
      const k = await sys('__proto__', 'SYS_SIGNAL', { signal, target: 'isPrototypeOf' });
      expectThat(`SYS_SIGNAL ${signal}`, k.success === false && k.errorCode === ErrorCode.INVALID_REQUEST, k);
      const m = await sys('__proto__', 'SYS_SIGPROCMASK', { how: 'block', signals: [signal] });
      expectThat(`SYS_SIGPROCMASK ${signal}`, m.success === false && m.errorCode === ErrorCode.INVALID_REQUEST, m);
    }
    for (const signal of ['SIGSTOP', 'SIGCONT']) {
      const r = await t.request(Subjects.adminAgentsSignal, { agentId: 'isPrototypeOf', signal });
      expectThat(`agents.signal ${signal}`, r.delivered === true, r);
    }
    const sa = await sys('__proto__', 'SYS_SIGACTION', { signal: 'SIGUSR1', action: 'ignore' });
    expectThat('SYS_SIGACTION SIGUSR1 ignore by __proto__', sa.success === true, sa);
    const list = await t.request<{ agents: { agentId: string }[] }>(Subjects.adminAgentsList, {});
    const listed = new Set(list.agents.map((a) => a.agentId));
    expectThat(
      'agents.list names every prototype-named agent',
      hostile.every((n) => listed.has(n)),
      list,
    );
    const tools = await t.request<{ tools: { name: string }[] }>(Subjects.adminToolsList, {});
    expectThat(
      'tools.list names every prototype-named tool',
      hostile.every((n) => tools.tools.some((x) => x.name === n)),
      tools,
    );
    for (const name of hostile) {
      const q = await t.request(Subjects.auditQuery, { agentId: name, syscall: name, rule: name, limit: 5 });
      expectThat(`audit.query agentId=syscall=rule=${name}`, Array.isArray(q.events), q);
      const st = await t.request(Subjects.auditStats, { agentId: name });
      expectThat(`audit.stats agentId=${name}`, !('error' in st), st);
      const rs = await t.request(Subjects.recorderReadStream, { streamId: name });
      expectThat(`recorder.read.stream ${name}`, Array.isArray(rs.events), rs);
      // event types start with a letter: `__proto__` is refused (-5), `constructor` is just a type no event has
      const ra = await t.request(Subjects.recorderReadAll, { streamPrefix: name, types: [name] });
      const typeOk = /^[A-Za-z]/.test(name);
      expectThat(
        `recorder.read.all streamPrefix=types=${name}`,
        typeOk ? Array.isArray(ra.events) && ra.events.length === 0 : isObj(ra.error) && ra.error.code === -5,
        ra,
      );
      const vs = await t.request(Subjects.vfsState, { agentId: name, base: { version: 0, eventId: null } });
      // base 0: the files as of no event, or -7 when the VFS knows this agent wrote since (ask again with its base)
      expectThat(
        `vfs.state ${name}`,
        (vs.agentId === name && isStr(vs.digest)) || (isObj(vs.error) && vs.error.code === -7),
        vs,
      );
    }
    // an unknown key is refused whatever its name: `toString` or `constructor` no more slips through than `zzz`
    const valid: [string, [string, string][]][] = [
      [Subjects.adminAgentsGet, [['agentId', str('fz0')]]],
      [Subjects.adminToolsRegister, [['name', str('fuzz_tool')]]],
      [Subjects.recorderVerify, [['from', '1']]],
      [Subjects.auditStats, [['after', '0']]],
      [Subjects.policyShow, [['version', '1']]],
    ];
    for (const [subject, fields] of valid) {
      const plain = await t.requestRaw(subject, objectText([...fields, ['zzz', '{"x":1}']]));
      expectThat(`${subject} with an unknown key zzz is -5`, isObj(plain.error) && plain.error.code === -5, plain);
      for (const key of PROTOTYPE_NAMES) {
        const r = await t.requestRaw(subject, objectText([...fields, [key, '{"x":1}']]));
        expectThat(
          `${subject} with an unknown key ${key} is -5, as with zzz: ${objectText([...fields, [key, '{"x":1}']])}`,
          isObj(r.error) && r.error.code === -5,
          r,
        );
      }
    }
    if (problems.length > 0) throw new Error(`seed ${SEED}:\n${problems.join('\n')}`);
  });

  it('ignores garbage and forged hints on the commit feed, and garbage on signal subjects', async () => {
    // the kernel and the policy service follow the feed (the VFS needs none: kernels tell it which files)
    const ports = {
      kernel: t.stack.running('kernel')[0].httpPort,
      policy: t.stack.running('policy')[0].httpPort,
    };
    const ignoredBefore = {
      kernel: metricValue(await metricsText(ports.kernel), 'agentos_feed_hints_total', { outcome: 'ignored' }),
      policy: metricValue(await metricsText(ports.policy), 'agentos_feed_hints_total', { outcome: 'ignored' }),
    };
    const rng = new SeededRandom(SEED ^ 0xfeed);
    const garbage: RawCase[] = [
      ...genericHostileBodies(maxPayload, MAX_REQUEST_BYTES),
      { label: 'hint with a negative version', body: '{"p":0,"head":1,"at":0,"s":[["agent:fz0",-1]]}' },
      { label: 'hint with a stream id of 257', body: `{"p":0,"head":1,"at":0,"s":[[${str('a'.repeat(257))},1]]}` },
      { label: 'hint with 513 streams', body: `{"p":0,"head":1,"at":0,"s":[${Array(513).fill('["x",1]').join(',')}]}` },
      { label: 'hint with at = "now"', body: '{"p":0,"head":1,"at":"now","s":[]}' },
      { label: 'hint with s as an object', body: '{"p":0,"head":1,"at":0,"s":{"0":["x",1]}}' },
      { label: 'hint with 1e309 head', body: '{"p":0,"head":1e309,"at":0,"s":[]}' },
      ...Array.from({ length: 20 }, (_, i) => ({
        label: `random ${i}`,
        body: randomJsonText(rng, ['p', 'head', 'at', 's']),
      })),
    ];
    // well-formed hints naming streams that moved nowhere: a consumer re-reads the log, nothing else
    const forged: RawCase[] = [
      ['agent:__proto__', 1],
      ['agent:constructor', 99],
      ['__proto__', 1],
      ['agent:' + VICTIM, Number.MAX_SAFE_INTEGER],
      ['agent:' + VICTIM, 1],
      ['$policy', 1_000_000],
      ['$tools', 7],
      ['agent:ghost', 1],
    ].map(([s, v]) => ({
      label: `forged hint ${s}@${v}`,
      body: JSON.stringify({ p: 0, head: Number.MAX_SAFE_INTEGER, at: Date.now(), s: [[s, v]] }),
    }));
    forged.push({
      label: 'forged hint naming 512 streams',
      body: JSON.stringify({
        p: 2 ** 31,
        head: 1,
        at: -1e300,
        s: Array.from({ length: 512 }, (_, i) => [`agent:${PROTOTYPE_NAMES[i % PROTOTYPE_NAMES.length]}${i}`, 1 + i]),
      }),
    });
    // every feed subscriber counts a message it could not read as a hint: garbage must be ignored, not fatal
    let countedAsGarbage = 0;
    for (const partition of ['0', '1', '__proto__', '999999999999']) {
      const subject = t.subject(Subjects.feedAll).replace(/\*$/, partition);
      for (const g of garbage) {
        t.nc.publish(subject, g.body);
        countedAsGarbage += 1;
      }
      for (const f of forged) t.nc.publish(subject, f.body);
    }
    for (const agent of [VICTIM, ...PROTOTYPE_NAMES.slice(0, 3), 'fz0', 'ghost']) {
      for (const g of garbage) t.nc.publish(t.subject(Subjects.signal(agent)), g.body);
    }
    await t.nc.flush();
    // a random body may happen to be a hint: those are not counted as ignored
    const hints = garbage.filter((g) => {
      try {
        return readFeedHint(JSON.parse(new TextDecoder().decode(Buffer.from(g.body)))) !== null;
      } catch {
        return false;
      }
    }).length;
    const expected = countedAsGarbage - 4 * hints;
    for (const service of ['kernel', 'policy'] as const) {
      await waitFor(
        async () =>
          metricValue(await metricsText(ports[service]), 'agentos_feed_hints_total', { outcome: 'ignored' }) -
            ignoredBefore[service] >=
          expected,
        15_000,
        `${service} to have received and ignored ${expected} feed messages that are not hints`,
        50,
      );
    }
    // a forged hint must not make any agent unusable
    for (const a of [VICTIM, 'fz0', 'isPrototypeOf']) {
      const w = await sys(a, 'SYS_WRITE', { path: '/mem/working/after-feed.txt', data: a });
      expect(w).toMatchObject({ success: true });
      expect(await sys(a, 'SYS_READ', { path: '/mem/working/after-feed.txt' })).toMatchObject({ returnValue: a });
    }
    expect(t.stack.running()).toHaveLength(4);
  });

  it('answers every hostile request, on every subject, with a well-formed reply and never -4', async () => {
    const rng = new SeededRandom(SEED);
    const probes = buildProbes(rng, maxPayload);
    const started = Date.now();
    await pool(probes, CONCURRENCY, async (p) => {
      await probe(p, stormFindings);
    });
    // over the NATS max payload: the client refuses to send it, the connection stays usable
    const over = '{"pad":"' + 'x'.repeat(maxPayload + 16) + '"}';
    for (const s of [Subjects.syscall('fz0'), Subjects.recorderAppend, Subjects.policyValidate]) {
      const send = async () => t.nc.request(t.subject(s), over, { timeout: REPLY_DEADLINE_MS });
      await expect(send()).rejects.toThrow(/max_payload/);
    }
    expect(await t.request(Subjects.recorderHead, {})).toMatchObject({ position: expect.any(Number) });
    process.stdout.write(
      `fuzz seed ${SEED}: ${probesSent} requests, ${(bytesSent / 1e6).toFixed(1)} MB, ${Date.now() - started} ms, ` +
        `slowest reply ${slowest.ms} ms (${slowest.what}), ${stormFindings.length} finding(s)\n`,
    );
    if (stormFindings.length > 0) throw new Error(report(stormFindings));
  });

  it('keeps every service process running and ready', async () => {
    expect(
      t.stack
        .running()
        .map((p) => p.service)
        .sort(),
    ).toEqual(['kernel', 'policy', 'recorder', 'vfs']);
    for (const p of t.stack.running()) {
      const ready = await fetch(`http://127.0.0.1:${p.httpPort}/health/ready`);
      expect({ service: p.service, status: ready.status }).toEqual({ service: p.service, status: 200 });
    }
  });

  it('keeps an agent created before the storm usable end to end', async () => {
    // the storm may have applied or rolled back allow-all policies; the victim's role `worker` is allowed throughout
    const w = await sys(VICTIM, 'SYS_WRITE', { path: '/mem/working/after.txt', data: 'after the storm' });
    expect(w).toMatchObject({ success: true, returnValue: 15, errorCode: null });
    expect(await sys(VICTIM, 'SYS_READ', { path: '/mem/working/after.txt' })).toMatchObject({
      success: true,
      returnValue: 'after the storm',
    });
    expect(await sys(VICTIM, 'SYS_READ', { path: '/mem/working/before.txt' })).toMatchObject({
      returnValue: 'before the storm',
    });
    const c = await sys(VICTIM, 'SYS_CHECKPOLICY', { action: 'file_write', args: { path: '/mem/working/x' } });
    expect(c).toMatchObject({ success: true, returnValue: { allowed: true, agentId: VICTIM } });
    const a = await t.request(Subjects.adminAgentsGet, { agentId: VICTIM });
    expect(a).toMatchObject({ agentId: VICTIM, role: 'worker', state: 'running' });
    expect(a.version).toBeGreaterThanOrEqual(3);
  });

  it('keeps the log verifiable and every page of it readable', async () => {
    // every partition: its own chain, head and pages (the one log, unless this run has several)
    for (let partition = 0; partition < TEST_PARTITIONS; partition++) {
      const which = TEST_PARTITIONS > 1 ? { partition } : {};
      const head = await t.request<{ position: number }>(Subjects.recorderHead, which);
      const verify = await t.request(Subjects.recorderVerify, which, 60_000);
      expect(verify).toMatchObject({ ok: true, ...which });
      expect(verify.checked).toBeGreaterThanOrEqual(head.position);
      let after = 0;
      let pages = 0;
      while (after < head.position) {
        const page = await t.request<{ events?: { position: number }[]; error?: unknown }>(
          Subjects.recorderReadAll,
          { ...which, after, toPosition: head.position, limit: 1000 },
          30_000,
        );
        expect({ ...which, after, error: page.error }).toEqual({ ...which, after, error: undefined });
        expect(page.events?.length).toBeGreaterThan(0);
        const last = page.events![page.events!.length - 1].position;
        expect(last).toBeGreaterThan(after);
        after = last;
        pages += 1;
      }
      expect(after).toBe(head.position);
      expect(pages).toBeGreaterThan(0);
    }
  });

  it(`keeps the kernel's resident memory under ${MAX_KERNEL_RSS_BYTES / 1024 / 1024} MB`, async () => {
    const kernel = t.stack.running('kernel')[0];
    const rss = metricValue(await metricsText(kernel.httpPort), 'process_resident_memory_bytes');
    process.stdout.write(`kernel resident memory after the storm: ${(rss / 1024 / 1024).toFixed(0)} MB\n`);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(MAX_KERNEL_RSS_BYTES);
  });
});
