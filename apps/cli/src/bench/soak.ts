import { connect } from '@nats-io/transport-node';
import { Subjects, parseNatsUrl, withSubjectPrefix, type SyscallReply } from '#contracts';
import type { ServiceProcess } from '#devstack';

export interface MemorySample {
  t: number;
  rssMb: number;
  heapMb: number;
}

export interface SoakResult {
  seconds: number;
  syscalls: number;
  perSecond: number[];
  services: {
    service: string;
    samples: MemorySample[];
    heapStartMb: number;
    heapEndMb: number;
    rssStartMb: number;
    rssEndMb: number;
    growthPct: number;
    flat: boolean;
  }[];
  flat: boolean;
}

const MB = 1024 * 1024;

async function sample(p: ServiceProcess, t: number): Promise<MemorySample | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text();
    const rss = Number(/^process_resident_memory_bytes\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    const heap = Number(/^nodejs_heap_size_used_bytes\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    return { t, rssMb: Math.round((rss / MB) * 10) / 10, heapMb: Math.round((heap / MB) * 10) / 10 };
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

/**
 * A bounded soak: steady load from a fixed fleet for `seconds`, sampling each service's memory.
 * The heap saws up and down with garbage collection, so what is compared is its floor (the
 * lowest sample) in the first and the last third of the run after the warm-up: memory is "flat"
 * when the floor grew by less than 25 % (or 16 MiB).
 */
export async function soak(
  natsUrl: string,
  prefix: string,
  processes: ServiceProcess[],
  seconds: number,
  agents: number,
  onTick?: (s: string) => void,
): Promise<SoakResult> {
  const nc = await connect(parseNatsUrl(natsUrl));
  const subj = (s: string) => withSubjectPrefix(s, prefix);
  const ids = Array.from({ length: agents }, (_, i) => `soak-${i}`);
  await Promise.all(
    ids.map((agentId) =>
      nc.request(subj(Subjects.adminAgentsCreate), JSON.stringify({ agentId }), { timeout: 30_000 }),
    ),
  );
  const started = Date.now();
  const end = started + seconds * 1000;
  let done = 0;
  const perSecond: number[] = [];
  const samples = new Map<ServiceProcess, MemorySample[]>(processes.map((p) => [p, []]));
  let lastCount = 0;
  const ticker = setInterval(async () => {
    const t = Math.round((Date.now() - started) / 1000);
    perSecond.push((done - lastCount) / 2);
    lastCount = done;
    for (const p of processes) {
      const s = await sample(p, t);
      if (s) samples.get(p)!.push(s);
    }
    onTick?.(`soak ${t}/${seconds} s, ${perSecond.at(-1)} syscalls/s`);
  }, 2000);
  await Promise.all(
    ids.map(async (agentId, w) => {
      for (let i = 0; Date.now() < end; i++) {
        // overwrite a few files (bounded state), read, check: the fleet's state stays the same size
        const k = i % 4;
        const [syscall, args] =
          k < 2
            ? ['SYS_WRITE', { path: `/mem/working/f${i % 8}`, data: `${w}:${i}`.padEnd(100, '.') }]
            : k === 2
              ? ['SYS_READ', { path: '/mem/working/f0' }]
              : ['SYS_CHECKPOLICY', { action: 'file_write' }];
        const r = (
          await nc.request(subj(Subjects.syscall(agentId)), JSON.stringify({ syscall, args }), { timeout: 30_000 })
        ).json<SyscallReply>();
        if (r.success || r.errorCode === 3) done += 1;
      }
    }),
  );
  clearInterval(ticker);
  await nc.close();
  const services = processes.map((p) => {
    const s = samples.get(p)!;
    const third = Math.max(1, Math.floor(s.length / 3));
    const warm = s.slice(Math.min(1, s.length - 1)); // skip the first sample (warm-up)
    const first = warm.slice(0, third);
    const last = warm.slice(-third);
    const heapStart = Math.min(...first.map((x) => x.heapMb));
    const heapEnd = Math.min(...last.map((x) => x.heapMb));
    const growth = heapStart > 0 ? ((heapEnd - heapStart) / heapStart) * 100 : 0;
    return {
      service: p.service,
      samples: s,
      heapStartMb: heapStart,
      heapEndMb: heapEnd,
      rssStartMb: median(first.map((x) => x.rssMb)),
      rssEndMb: median(last.map((x) => x.rssMb)),
      growthPct: Math.round(growth * 10) / 10,
      flat: growth < 25 || heapEnd - heapStart < 16,
    };
  });
  return { seconds, syscalls: done, perSecond, services, flat: services.every((s) => s.flat) };
}
