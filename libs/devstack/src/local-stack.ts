import { runMigrations } from '#event-store';
import pg from 'pg';
import { ServiceProcess, type ServiceName } from './service-process.js';

export interface LocalStackOptions {
  pgUrl: string;
  natsUrl: string;
  /** Schema of its own (created and migrated). */
  schema: string;
  /** Subject prefix of its own, so the stack never sees another's traffic. */
  subjectPrefix: string;
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
    await runMigrations({ pgUrl: o.pgUrl, pgSchema: o.schema });
    return new LocalStack(o);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AGENTOS_PG_URL: this.o.pgUrl,
      AGENTOS_PG_SCHEMA: this.o.schema,
      AGENTOS_NATS_URL: this.o.natsUrl,
      AGENTOS_SUBJECT_PREFIX: this.o.subjectPrefix,
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

  /** Stops every process and drops the schema. */
  async destroy(): Promise<void> {
    await this.stopAll();
    const c = new pg.Client({ connectionString: this.o.pgUrl });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS "${this.o.schema}" CASCADE`);
    } finally {
      await c.end();
    }
  }
}
