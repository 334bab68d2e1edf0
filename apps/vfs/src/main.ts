import { bootstrapService } from '#runtime';
import { VfsModule } from './vfs.module.js';

await bootstrapService({ service: 'vfs', module: (rt) => VfsModule.forRoot(rt) });
