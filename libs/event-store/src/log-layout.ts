import { MAX_PARTITIONS, parsePartitionList } from '#contracts';

/** Where one partition of the log lives: a Postgres server and a schema on it. */
export interface PartitionPlacement {
  partition: number;
  pgUrl: string;
  pgSchema: string;
}

/** The whole log: its partition count and each partition's place. */
export interface LogLayout {
  partitions: number;
  placements: PartitionPlacement[];
}

/** Partition 0 is the deployment's schema itself; partition k lives in `<schema>_p<k>`. */
export function partitionSchema(baseSchema: string, partition: number): string {
  return partition === 0 ? baseSchema : `${baseSchema}_p${partition}`;
}

/**
 * The layout for `partitions` partitions: each on the base server unless `map` places it
 * elsewhere. `map` is AGENTOS_PG_PARTITIONS: entries `<partitions>=<postgres url>` separated by
 * `;` or newlines, where `<partitions>` is a number, a range `a-b`, or a comma list, e.g.
 * `0-1=postgres://a/agentos;2-3=postgres://b/agentos`.
 */
export function logLayout(base: { pgUrl: string; pgSchema: string }, partitions: number, map = ''): LogLayout {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new Error(`a log has 1 to ${MAX_PARTITIONS} partitions, not ${partitions}`);
  }
  const urls = new Map<number, string>();
  for (const entry of map
    .split(/[;\n]/)
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 1) throw new Error(`AGENTOS_PG_PARTITIONS: '${entry}' is not <partitions>=<url>`);
    const url = entry.slice(eq + 1).trim();
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`AGENTOS_PG_PARTITIONS: '${url}' is not a postgres:// URL`);
    for (const p of partitionList(entry.slice(0, eq).trim())) {
      if (p >= partitions)
        throw new Error(`AGENTOS_PG_PARTITIONS places partition ${p}, but the log has ${partitions}`);
      if (urls.has(p)) throw new Error(`AGENTOS_PG_PARTITIONS places partition ${p} twice`);
      urls.set(p, url);
    }
  }
  const placements: PartitionPlacement[] = [];
  for (let p = 0; p < partitions; p++) {
    placements.push({ partition: p, pgUrl: urls.get(p) ?? base.pgUrl, pgSchema: partitionSchema(base.pgSchema, p) });
  }
  return { partitions, placements };
}

function partitionList(spec: string): number[] {
  try {
    return parsePartitionList(spec);
  } catch (err) {
    throw new Error(`AGENTOS_PG_PARTITIONS: ${(err as Error).message}`);
  }
}
