import { Inject, Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import type { SyscallReply } from '#contracts';
import { Metrics } from '#observability';

/** Prometheus series of the syscall path. */
@Injectable()
export class KernelMetrics {
  readonly syscalls: Counter<'syscall' | 'outcome'>;
  readonly latency: Histogram<'syscall'>;
  readonly conflicts: Counter<string>;

  constructor(@Inject(Metrics) m: Metrics) {
    this.syscalls = m.counter(
      'agentos_syscalls_total',
      'Syscalls answered, by syscall and outcome (ok or the error code)',
      ['syscall', 'outcome'],
    );
    this.latency = m.histogram('agentos_syscall_duration_seconds', 'Time from receipt to reply', ['syscall']);
    this.conflicts = m.counter(
      'agentos_kernel_conflicts_total',
      'Decisions retried because the stream moved (another replica, stale cache)',
    );
  }

  observe(syscall: string, reply: SyscallReply, receivedAt: number): void {
    this.syscalls.inc({ syscall, outcome: reply.success ? 'ok' : String(reply.errorCode) });
    this.latency.observe({ syscall }, (performance.now() - receivedAt) / 1000);
  }
}
