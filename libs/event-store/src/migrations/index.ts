import { CreateEventLog1764000000000 } from './1764000000000-create-event-log.js';

/** Every migration, oldest first. */
export const MIGRATIONS = [CreateEventLog1764000000000];
