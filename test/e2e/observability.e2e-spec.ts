import { Subjects, type SyscallReply } from '#contracts';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** What operators see: health, readiness, Prometheus metrics, JSON logs with correlation ids. */
describe('operations', () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({
      services: ['recorder', 'vfs', 'policy', 'kernel'],
      env: { AGENTOS_LOG_LEVEL: 'debug' },
    });
    await t.request(Subjects.adminAgentsCreate, { agentId: 'ops' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves liveness, readiness and metrics on every service', async () => {
    for (const p of t.stack.running()) {
      const live = await fetch(`http://127.0.0.1:${p.httpPort}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${p.httpPort}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { nats: 'ok', postgres: 'ok' } });
      const metrics = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text();
      expect(metrics).toContain('process_resident_memory_bytes');
    }
  });

  it('exports syscalls by type and outcome, latency histograms, batch sizes and replay lag', async () => {
    await t.request(Subjects.syscall('ops'), { syscall: 'SYS_WRITE', args: { path: '/mem/working/m', data: 'x' } });
    await t.request(Subjects.syscall('ops'), { syscall: 'SYS_READ', args: { path: '/mem/working/none' } });
    const text = async (service: string) =>
      (await fetch(`http://127.0.0.1:${t.stack.running(service as 'kernel')[0].httpPort}/metrics`)).text();
    const kernel = await text('kernel');
    expect(kernel).toMatch(/agentos_syscalls_total\{[^}]*syscall="SYS_WRITE"[^}]*outcome="ok"[^}]*\} 1/);
    expect(kernel).toMatch(/agentos_syscalls_total\{[^}]*syscall="SYS_READ"[^}]*outcome="3"[^}]*\} 1/);
    expect(kernel).toMatch(/agentos_syscall_duration_seconds_bucket\{[^}]*syscall="SYS_WRITE"/);
    expect(kernel).toMatch(/agentos_feed_delay_seconds_count\{[^}]*\} [1-9]/);
    const recorder = await text('recorder');
    expect(recorder).toMatch(/agentos_recorder_batch_events_bucket/);
    expect(recorder).toMatch(/agentos_recorder_appends_total\{[^}]*outcome="committed"/);
  });

  it('logs one JSON object a line, with a correlation id that follows a syscall across services', async () => {
    const r = await t.request<SyscallReply>(Subjects.syscall('ops'), {
      id: 'trace-me-42',
      syscall: 'SYS_WRITE',
      args: { path: '/mem/working/t', data: 'x' },
    });
    expect(r.success).toBe(true);
    await new Promise((res) => setTimeout(res, 300));
    for (const service of ['kernel', 'vfs', 'recorder'] as const) {
      const lines = t.stack.running(service)[0].lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(
        lines.every((l) => typeof l.level === 'string' && typeof l.time === 'string' && l.service === service),
      ).toBe(true);
      expect(lines.some((l) => l.correlationId === 'trace-me-42')).toBe(true);
    }
  });

  it('drains in-flight requests on SIGTERM and exits 0', async () => {
    const kernel = t.stack.running('kernel')[0];
    const inFlight = Array.from({ length: 30 }, (_, i) =>
      t.request<SyscallReply>(Subjects.syscall('ops'), {
        id: `drain-${i}`,
        syscall: 'SYS_WRITE',
        args: { path: '/mem/working/d', data: 'x', mode: 'a' },
      }),
    );
    await new Promise((res) => setTimeout(res, 5));
    const code = await kernel.stop();
    const replies = await Promise.allSettled(inFlight);
    expect(code).toBe(0);
    // every request the kernel took before it stopped was answered (the rest got no responders)
    const answered = replies
      .filter((x) => x.status === 'fulfilled')
      .map((x) => (x as PromiseFulfilledResult<SyscallReply>).value);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((a) => a.success)).toBe(true);
    expect(kernel.lines.some((l) => l.includes('"draining"'))).toBe(true);
    expect(kernel.lines.some((l) => l.includes('"stopped"'))).toBe(true);
  });
});
