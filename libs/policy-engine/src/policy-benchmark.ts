import { compilePolicy } from './compile-policy.js';
import { evaluatePolicy, type RateUsage } from './evaluate-policy.js';
import type { PolicyDocument } from './policy-document.js';

/** A realistic 100-rule policy: roles, conditions on arguments, priorities, a rate limit. */
export function hundredRulePolicy(): PolicyDocument {
  const rules = Array.from({ length: 100 }, (_, i) => ({
    name: `rule-${i}`,
    priority: i % 10,
    match: {
      actions: [i % 3 === 0 ? 'file_write' : i % 3 === 1 ? 'file_read' : `tool_${i % 7}`],
      roles: i % 2 ? ['writer'] : ['*'],
    },
    when:
      i % 4 === 0
        ? {
            all: [
              { field: 'args.path', operator: 'contains' as const, value: `secret-${i}` },
              { field: 'context.level', operator: 'lt' as const, value: 3 },
            ],
          }
        : { field: 'args.path', operator: 'matches' as const, value: `^/mem/working/blocked-${i}` },
    effect: 'deny' as const,
    onViolation: 'deny' as const,
  }));
  return {
    apiVersion: 'agentos/v1',
    name: 'bench-100',
    roles: {
      writer: { allow: ['file_read', 'file_write', 'file_open', 'file_close', 'tool_1'], context: { level: 2 } },
    },
    rules,
    rateLimits: [{ name: 'writes', match: { actions: ['file_write'] }, perMinute: 10_000 }],
  };
}

/** Decision cost in microseconds (p50, p99) over `n` decisions for a 100-rule policy. */
export function benchmarkDecisions(n = 100_000): { p50Us: number; p99Us: number; meanUs: number; decisions: number } {
  const policy = compilePolicy(hundredRulePolicy());
  const usage: RateUsage = { count: () => 5 };
  const reqs = ['file_write', 'file_read', 'tool_1', 'file_open'].map((action, i) => ({
    agentId: `a${i}`,
    role: 'writer',
    action,
    syscall: 'SYS_WRITE',
    args: { path: `/mem/working/notes-${i}.txt`, data: 'hello' },
    ring: 3,
  }));
  for (let i = 0; i < 10_000; i++) evaluatePolicy(policy, reqs[i % reqs.length], usage); // warm up the JIT
  const batch = 100;
  const samples: number[] = [];
  for (let i = 0; i < n / batch; i++) {
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < batch; j++) evaluatePolicy(policy, reqs[j % reqs.length], usage);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] * 1000) / 1000;
  return {
    p50Us: at(0.5),
    p99Us: at(0.99),
    meanUs: Math.round((samples.reduce((a, b) => a + b, 0) / samples.length) * 1000) / 1000,
    decisions: n,
  };
}
