import { logLayout, migrateLog } from '#event-store';
import pg from 'pg';
import { ServiceProcess, type ServiceName } from './service-process.js';

export interface LocalStackOptions {
  pgUrl: string;
  natsUrl: string;
  /** Schema of its own (created and migrated). */
  schema: string;
  /** Subject prefix of its own, so the stack never sees another's traffic. */
  subjectPrefix: string;
  /** Partitions of its log (default 1). */
  partitions?: number;
  /** AGENTOS_PG_PARTITIONS: partitions placed on other Postgres servers. */
  partitionMap?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  logDir?: string;
}

/**
 * A whole deployment on this machine, every service its own process, isolated from any other by
 * its schema and subject prefix. Used by the benchmark and the end-to-end tests.
 */
export class LocalStack {
  readonly processes: ServiceProcess[] = [];

  private constructor(readonly o: LocalStackOptions) {}

  static async create(o: LocalStackOptions): Promise<LocalStack> {
    await migrateLog({ pgUrl: o.pgUrl, pgSchema: o.schema, partitions: o.partitions, partitionMap: o.partitionMap });
    return new LocalStack(o);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AGENTOS_PG_URL: this.o.pgUrl,
      AGENTOS_PG_SCHEMA: this.o.schema,
      AGENTOS_NATS_URL: this.o.natsUrl,
      AGENTOS_SUBJECT_PREFIX: this.o.subjectPrefix,
      ...(this.o.partitionMap ? { AGENTOS_PG_PARTITIONS: this.o.partitionMap } : {}),
      AGENTOS_LOG_LEVEL: 'info',
      ...this.o.env,
      ...extra,
    };
  }

  async start(service: ServiceName, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const n = this.processes.filter((p) => p.service === service).length;
    const sp = await ServiceProcess.start({
      service,
      env: this.env({ AGENTOS_INSTANCE_ID: `${service}-${n}`, ...extraEnv }),
      logFile: this.o.logDir ? `${this.o.logDir}/${service}-${n}.log` : undefined,
    });
    this.processes.push(sp);
    return sp;
  }

  running(service?: ServiceName): ServiceProcess[] {
    return this.processes.filter((p) => p.running && (!service || p.service === service));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
  }

  async killAll(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill()));
  }

  /** Stops every process and drops the schema of every partition. */
  async destroy(): Promise<void> {
    await this.stopAll();
    const layout = logLayout(
      { pgUrl: this.o.pgUrl, pgSchema: this.o.schema },
      this.o.partitions ?? 1,
      this.o.partitionMap,
    );
    for (const p of layout.placements) {
      const c = new pg.Client({ connectionString: p.pgUrl });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${p.pgSchema}" CASCADE`);
      } finally {
        await c.end();
      }
    }
  }
}
