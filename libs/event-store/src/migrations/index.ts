import { CreateEventLog1764000000000 } from './1764000000000-create-event-log.js';
import { CreateSnapshots1764000000001 } from './1764000000001-create-snapshots.js';
import { CreateEventJsonFunction1764000000002 } from './1764000000002-create-event-json-function.js';
import { SlimEventIndexes1764000000003 } from './1764000000003-slim-event-indexes.js';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  CreateEventLog1764000000000,
  CreateSnapshots1764000000001,
  CreateEventJsonFunction1764000000002,
  SlimEventIndexes1764000000003,
];
