import { CreateEventLog1764000000000 } from './1764000000000-create-event-log.js';
import { CreateSnapshots1764000000001 } from './1764000000001-create-snapshots.js';
import { CreateEventJsonFunction1764000000002 } from './1764000000002-create-event-json-function.js';
import { SlimEventIndexes1764000000003 } from './1764000000003-slim-event-indexes.js';
import { CreateLogConfig1764000000004 } from './1764000000004-create-log-config.js';
import { CreateRelayCursors1764000000005 } from './1764000000005-create-relay-cursors.js';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  CreateEventLog1764000000000,
  CreateSnapshots1764000000001,
  CreateEventJsonFunction1764000000002,
  SlimEventIndexes1764000000003,
  CreateLogConfig1764000000004,
  CreateRelayCursors1764000000005,
];
