import { connect } from '@nats-io/transport-node';
import { Subjects, parseNatsUrl, withSubjectPrefix, type SyscallReply } from '#contracts';
import { hundredRulePolicy } from '#policy-engine';
import { runClosedLoop } from './closed-loop.js';
import type { PhaseSettings } from './baselines.js';
import { metered, type MeteredLoad, type ResourceMeter } from './resource-meter.js';

export interface SyscallBenchResult {
  mixed: MeteredLoad;
  sequential: MeteredLoad;
  agents: number;
}

/**
 * The full path (kernel → policy decision → VFS → recorder → Postgres → reply): `agents` agents,
 * each with one syscall outstanding at a time (an agent waits for its reply), doing a mix of
 * 50 % SYS_WRITE, 30 % SYS_READ and 20 % SYS_CHECKPOLICY; then one agent alone, sequentially.
 */
export async function syscallBench(
  natsUrl: string,
  prefix: string,
  s: PhaseSettings,
  agents: number,
  namePrefix = 'bench',
  meter?: ResourceMeter,
): Promise<SyscallBenchResult> {
  const nc = await connect(parseNatsUrl(natsUrl));
  const subj = (x: string) => withSubjectPrefix(x, prefix);
  const ids = Array.from({ length: agents }, (_, i) => `${namePrefix}-${i}`);
  try {
    await Promise.all(
      ids.map((agentId) =>
        nc.request(subj(Subjects.adminAgentsCreate), JSON.stringify({ agentId }), { timeout: 30_000 }),
      ),
    );
    const payload = 'x'.repeat(100);
    const call = async (agentId: string, syscall: string, args: Record<string, unknown>) => {
      const r = (
        await nc.request(subj(Subjects.syscall(agentId)), JSON.stringify({ syscall, args }), { timeout: 30_000 })
      ).json<SyscallReply>();
      if (!r.success) throw new Error(`${syscall}: ${r.errorCode} ${r.errorMessage}`);
    };
    await Promise.all(ids.map((a) => call(a, 'SYS_WRITE', { path: '/mem/working/f0', data: payload })));
    const mixed = await metered(meter, (window) =>
      runClosedLoop({
        ...s,
        window,
        concurrency: agents,
        op: async (w, i) => {
          const agentId = ids[w];
          const k = i % 10;
          if (k < 5) await call(agentId, 'SYS_WRITE', { path: `/mem/working/f${i % 4}`, data: payload });
          else if (k < 8) await call(agentId, 'SYS_READ', { path: '/mem/working/f0' });
          else await call(agentId, 'SYS_CHECKPOLICY', { action: 'file_write', args: { path: '/mem/working/f0' } });
        },
      }),
    );
    const sequential = await metered(meter, (window) =>
      runClosedLoop({
        ...s,
        window,
        durationMs: Math.max(1000, s.durationMs / 2),
        concurrency: 1,
        op: async (_w, i) =>
          call(ids[0], i % 2 ? 'SYS_READ' : 'SYS_WRITE', { path: '/mem/working/seq', data: payload }),
      }),
    );
    return { mixed, sequential, agents };
  } finally {
    await nc.close();
  }
}

/** Applies the 100-rule benchmark policy, with the bench agents' role allowed their file actions. */
export async function applyBenchPolicy(natsUrl: string, prefix: string): Promise<number> {
  const nc = await connect(parseNatsUrl(natsUrl));
  try {
    const doc = hundredRulePolicy();
    doc.roles = {
      ...doc.roles,
      agent: { allow: ['file_read', 'file_write', 'file_open', 'file_close'], context: { level: 2 } },
    };
    const r = (
      await nc.request(
        withSubjectPrefix(Subjects.policyApply, prefix),
        JSON.stringify({ document: JSON.stringify(doc), format: 'json', reason: 'bench' }),
        {
          timeout: 30_000,
        },
      )
    ).json<{ version?: number; error?: { message: string } }>();
    if (!r.version) throw new Error(`policy not applied: ${r.error?.message}`);
    await new Promise((res) => setTimeout(res, 500)); // every kernel has it well within this
    return r.version;
  } finally {
    await nc.close();
  }
}
