import { loadConfig } from '#config';
import { Subjects } from '#contracts';
import { bootstrapService } from '#runtime';
import { RecorderModule } from './recorder.module.js';

// A recorder that owns some partitions (AGENTOS_RECORDER_PARTITIONS) takes batch appends for
// those only; the public append subject stays shared and is forwarded to the owner.
const owned = loadConfig('recorder').recorderPartitions;

await bootstrapService({
  service: 'recorder',
  module: (rt) => RecorderModule.forRoot(rt),
  transport: {
    subjectsFor: (pattern) =>
      owned && pattern === Subjects.recorderAppendBatchAll
        ? owned.map((p) => Subjects.recorderAppendBatch(p))
        : undefined,
  },
});
