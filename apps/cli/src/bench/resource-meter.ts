import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { LoadResult } from './closed-loop.js';

/** CPU time of one process so far, in microseconds (user + system), from /proc; null if it is gone. */
function processCpuMicros(pid: number, tickMicros: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may contain spaces) start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * tickMicros;
  } catch {
    return null;
  }
}

/** Every process whose command is `name` (e.g. all Postgres backends and workers). */
function pidsByCommand(name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function clockTickMicros(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const hz = Number(r.stdout?.trim());
  return 1_000_000 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
}

export interface MeteredProcess {
  name: string;
  pid: number;
}

export interface ResourceUsage {
  /** CPU microseconds spent per group during the measured window. */
  cpuMicros: Record<string, number>;
  /** Sum over the deployment: services, Postgres and nats-server (not the load generator). */
  deploymentCpuMicros: number;
  /** The load generator (this process). */
  loadGeneratorCpuMicros: number;
  /** Messages published into and delivered by the NATS server, when its monitoring port is known. */
  natsInMsgs: number | null;
  natsOutMsgs: number | null;
}

/**
 * Measures what a phase costs across the whole deployment: CPU per process from /proc (each
 * service, every Postgres process, nats-server) and, from nats-server's monitoring endpoint, the
 * messages it carried. Linux only; elsewhere CPU figures are absent (zero processes).
 */
export class ResourceMeter {
  private readonly tick = clockTickMicros();
  private start: { cpu: Map<number, number>; self: NodeJS.CpuUsage; varz: { in: number; out: number } | null } | null =
    null;

  constructor(
    private readonly services: () => MeteredProcess[],
    private readonly natsServer: { pid: number; monitorPort: number } | null,
  ) {}

  private processes(): { group: string; pid: number }[] {
    const list = this.services().map((p) => ({ group: p.name, pid: p.pid }));
    for (const pid of pidsByCommand('postgres')) list.push({ group: 'postgres', pid });
    if (this.natsServer) list.push({ group: 'nats-server', pid: this.natsServer.pid });
    return list;
  }

  async begin(): Promise<void> {
    const cpu = new Map<number, number>();
    for (const p of this.processes()) {
      const c = processCpuMicros(p.pid, this.tick);
      if (c !== null) cpu.set(p.pid, c);
    }
    this.start = { cpu, self: process.cpuUsage(), varz: await this.varz() };
  }

  async end(): Promise<ResourceUsage> {
    const s = this.start;
    if (!s) throw new Error('ResourceMeter.end() before begin()');
    const cpuMicros: Record<string, number> = {};
    for (const p of this.processes()) {
      const now = processCpuMicros(p.pid, this.tick);
      if (now === null) continue;
      const before = s.cpu.get(p.pid) ?? 0; // a process started during the window counts from zero
      cpuMicros[p.group] = (cpuMicros[p.group] ?? 0) + (now - before);
    }
    const self = process.cpuUsage(s.self);
    const varz = await this.varz();
    return {
      cpuMicros,
      deploymentCpuMicros: Object.values(cpuMicros).reduce((a, b) => a + b, 0),
      loadGeneratorCpuMicros: self.user + self.system,
      natsInMsgs: varz && s.varz ? varz.in - s.varz.in : null,
      natsOutMsgs: varz && s.varz ? varz.out - s.varz.out : null,
    };
  }

  private async varz(): Promise<{ in: number; out: number } | null> {
    if (!this.natsServer) return null;
    try {
      const v = (await (await fetch(`http://127.0.0.1:${this.natsServer.monitorPort}/varz`)).json()) as {
        in_msgs: number;
        out_msgs: number;
      };
      return { in: v.in_msgs, out: v.out_msgs };
    } catch {
      return null;
    }
  }
}

/** Per-operation figures from a phase's usage. */
export function perOperation(u: ResourceUsage, operations: number) {
  const per = (x: number) => (operations > 0 ? Math.round((x / operations) * 10) / 10 : null);
  return {
    cpuMicrosPerSyscall: per(u.deploymentCpuMicros),
    cpuMicrosByProcess: Object.fromEntries(Object.entries(u.cpuMicros).map(([k, v]) => [k, per(v)])),
    loadGeneratorCpuMicros: per(u.loadGeneratorCpuMicros),
    natsMessagesPerSyscall: u.natsInMsgs === null ? null : per(u.natsInMsgs),
    natsDeliveriesPerSyscall: u.natsOutMsgs === null ? null : per(u.natsOutMsgs),
  };
}

/** A phase's result with what it cost per operation across the deployment. */
export type MeteredLoad = LoadResult & Partial<ReturnType<typeof perOperation>>;

/** Runs a phase with the meter's window around its measured part, and adds the per-operation costs. */
export async function metered(
  meter: ResourceMeter | undefined,
  run: (window: { begin: () => Promise<void>; end: () => Promise<void> } | undefined) => Promise<LoadResult>,
): Promise<MeteredLoad> {
  if (!meter) return run(undefined);
  let usage: Awaited<ReturnType<ResourceMeter['end']>> | undefined;
  const result = await run({ begin: () => meter.begin(), end: async () => void (usage = await meter.end()) });
  return usage ? { ...result, ...perOperation(usage, result.operations) } : result;
}
