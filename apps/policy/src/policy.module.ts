import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RuntimeModule, type Runtime } from '#runtime';

@Module({})
export class PolicyModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: PolicyModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
    };
  }
}
