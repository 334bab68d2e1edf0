import { Module, type DynamicModule } from '@nestjs/common';
import {
  CommittedEventsFeed,
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
        CommittedEventsFeed,
        RecorderClient,
        StreamCommandHandler,
        PolicyStore,
      ],
    };
  }
}
