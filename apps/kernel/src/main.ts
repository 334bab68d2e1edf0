import { bootstrapService } from '#runtime';
import { KernelModule } from './kernel.module.js';

await bootstrapService({ service: 'kernel', module: (rt) => KernelModule.forRoot(rt) });
