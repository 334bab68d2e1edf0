import { bootstrapService } from '#runtime';
import { PolicyModule } from './policy.module.js';

await bootstrapService({ service: 'policy', module: (rt) => PolicyModule.forRoot(rt) });
