import { loadConfig } from '#config';
import { bootstrapService } from '#runtime';
import { PolicyModule } from './policy.module.js';

const config = loadConfig('policy');
// Policy documents may be up to 256 KiB of text, which grows when embedded in a JSON body.
config.maxRequestBytes = Math.max(config.maxRequestBytes, 900 * 1024);
await bootstrapService({ service: 'policy', module: (rt) => PolicyModule.forRoot(rt) }, config);
