import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadConfig, type AgentOsConfig } from '#config';
import { checkPayloadLimits } from '#contracts';
import {
  RawNatsTransport,
  connectNats,
  natsConnectionState,
  setCorrelationPropagation,
  type RawNatsTransportOptions,
} from '#messaging';
import { Metrics, PinoNestLogger, Readiness, createLogger } from '#observability';
import type { Runtime } from './runtime.module.js';

export interface ServiceDefinition {
  service: string;
  /** Builds the root module from the runtime (config, NATS, logger, metrics, readiness). */
  module: (rt: Runtime) => DynamicModule;
  transport?: Partial<RawNatsTransportOptions>;
}

/**
 * Starts a service: configuration, structured logger, NATS (waits for it, reconnects forever),
 * the Nest application with its NATS handlers and the health/metrics HTTP port. On SIGTERM or
 * SIGINT it drains: readiness turns false, NATS subscriptions stop taking work, requests in flight
 * finish, then modules close their resources (pools, queues) and the process exits.
 */
export async function bootstrapService(
  def: ServiceDefinition,
  config: AgentOsConfig = loadConfig(def.service),
): Promise<void> {
  const logger = createLogger(config);
  setCorrelationPropagation(config.trace);
  const readiness = new Readiness();
  const metrics = new Metrics(config.service, config.instanceId);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));

  logger.info({ natsUrl: config.natsUrl }, 'connecting to NATS');
  const nc = await connectNats({
    url: config.natsUrl,
    name: `${config.service}:${config.instanceId}`,
    inboxPrefix: `_INBOX.$${config.service}`,
    ...(config.natsCredsFile ? { creds: readFileSync(config.natsCredsFile, 'utf8') } : {}),
    onStatus: (type, detail) => {
      if (type === 'disconnect' || type === 'reconnect' || type === 'error')
        logger.warn({ nats: type, detail }, 'NATS status');
    },
  });
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const problems = checkPayloadLimits(config.limits, maxPayload);
  if (problems.length) {
    // refuse to start rather than accept writes whose replies could never travel
    for (const p of problems) logger.fatal({ maxPayload }, `inconsistent size limits: ${p}`);
    logger.flush?.();
    process.exit(1);
  }
  const natsState = natsConnectionState(nc);
  readiness.add('nats', () => natsState.check());

  const runtime: Runtime = { config, nc, logger, metrics, readiness };
  const app = await NestFactory.create(def.module(runtime), { logger: new PinoNestLogger(logger) });
  const requestLog = logger.child({ component: 'nats' });
  const refusedReplies = metrics.counter(
    'agentos_requests_refused_reply_total',
    'Requests dropped because their reply subject is not an allowed inbox',
  );
  const transport = new RawNatsTransport(nc, {
    subjectPrefix: config.subjectPrefix,
    defaultQueue: config.service,
    // one debug line per request, with the correlation id that follows a syscall across services
    onHandled: (r) => {
      if (requestLog.isLevelEnabled('debug')) {
        requestLog.debug(
          { subject: r.subject, correlationId: r.correlationId, ms: Math.round(r.ms * 1000) / 1000 },
          'handled',
        );
      }
    },
    replyPrefixes: config.replyPrefixes,
    onRefusedReply: (r) => {
      refusedReplies.inc();
      if (requestLog.isLevelEnabled('warn')) {
        requestLog.warn(
          { subject: r.subject, reply: r.reply.slice(0, 200) },
          'request dropped: reply subject not an inbox',
        );
      }
    },
    ...def.transport,
  });
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.httpPort, '0.0.0.0');
  const httpPort = (app.getHttpServer().address() as AddressInfo).port;
  logger.info({ httpPort, subjectPrefix: config.subjectPrefix, pgSchema: config.pgSchema }, 'service ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, inFlight: transport.pending }, 'draining');
    readiness.markShuttingDown();
    const hardStop = setTimeout(() => {
      logger.error('drain took too long; exiting');
      process.exit(1);
    }, 30_000).unref();
    try {
      await transport.close();
      await app.close();
      await nc.drain().catch(() => undefined);
      logger.info('stopped');
    } catch (err) {
      logger.error({ err }, 'error while stopping');
    } finally {
      clearTimeout(hardStop);
      logger.flush?.();
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
