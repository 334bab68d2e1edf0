import { Module, type DynamicModule } from '@nestjs/common';
import type pg from 'pg';
import { PgEventReader } from '#event-store';
import {
  CommittedEventsFeed,
  PG_POOL,
  PostgresModule,
  RECORDER_CLIENT_SETTINGS,
  RecorderClient,
  RuntimeModule,
  StreamCommandHandler,
  recorderClientSettingsFromEnv,
  type Runtime,
} from '#runtime';
import { PolicyController } from './documents/policy.controller.js';
import { PolicyStore } from './documents/policy-store.service.js';

@Module({})
export class PolicyModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: PolicyModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
      controllers: [PolicyController],
      providers: [
        { provide: RECORDER_CLIENT_SETTINGS, useValue: recorderClientSettingsFromEnv() },
        { provide: PgEventReader, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new PgEventReader(pool) },
        CommittedEventsFeed,
        RecorderClient,
        StreamCommandHandler,
        PolicyStore,
      ],
    };
  }
}
