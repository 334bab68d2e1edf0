import { bootstrapService } from '#runtime';
import { RecorderModule } from './recorder.module.js';

await bootstrapService({ service: 'recorder', module: (rt) => RecorderModule.forRoot(rt) });
