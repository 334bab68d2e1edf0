import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import { NatsRpcClient } from '#messaging';
import { HealthController, Metrics, Readiness } from '#observability';
import { AGENTOS_CONFIG, NATS_CONNECTION, ROOT_LOGGER } from './runtime.tokens.js';

export interface Runtime {
  config: AgentOsConfig;
  nc: NatsConnection;
  logger: pino.Logger;
  metrics: Metrics;
  readiness: Readiness;
}

/**
 * The process-wide things a service is started with (configuration, the one NATS connection,
 * logger, metrics, readiness), made injectable everywhere, plus the health/metrics HTTP endpoints.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: RuntimeModule,
      controllers: [HealthController],
      providers: [
        { provide: AGENTOS_CONFIG, useValue: rt.config },
        { provide: NATS_CONNECTION, useValue: rt.nc },
        { provide: ROOT_LOGGER, useValue: rt.logger },
        { provide: Metrics, useValue: rt.metrics },
        { provide: Readiness, useValue: rt.readiness },
        { provide: NatsRpcClient, useValue: new NatsRpcClient(rt.nc, rt.config.subjectPrefix) },
      ],
      exports: [AGENTOS_CONFIG, NATS_CONNECTION, ROOT_LOGGER, Metrics, Readiness, NatsRpcClient],
    };
  }
}
