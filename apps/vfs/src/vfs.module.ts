import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RuntimeModule, type Runtime } from '#runtime';

@Module({})
export class VfsModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: VfsModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
    };
  }
}
