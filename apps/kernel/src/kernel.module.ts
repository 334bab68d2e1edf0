import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RuntimeModule, type Runtime } from '#runtime';

@Module({})
export class KernelModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: KernelModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
    };
  }
}
