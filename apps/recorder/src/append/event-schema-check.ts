import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { EVENT_METADATA_SCHEMA, EVENT_SCHEMAS, MAX_JSON_DEPTH, jsonDepth, schemaKey } from '#contracts';
import { rememberCanonicalText, toCanonicalJson, type AppendRequest, type NewEvent } from '#event-store';

/**
 * The recorder's gate on what enters the log: every event must be of a known type and schema
 * version, match that version's schema, nest at most MAX_JSON_DEPTH deep and fit maxEventBytes.
 * Checked before the request is queued, so a malformed event is refused (-5) and never becomes
 * history that a fold or a reader would have to survive forever.
 */
export class EventSchemaCheck {
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly metadata: ValidateFunction;

  constructor(private readonly maxEventBytes: number) {
    const ajv = new Ajv2020({ allErrors: false, strict: false });
    for (const [key, schema] of EVENT_SCHEMAS) this.validators.set(key, ajv.compile(schema));
    this.metadata = ajv.compile(EVENT_METADATA_SCHEMA);
  }

  /** Why the request cannot enter the log, or null. Expects a request that passed validateAppendRequest's shape checks. */
  check(request: AppendRequest): string | null {
    for (const a of request.appends) {
      for (const e of a.events) {
        const where = `event ${e.eventId} (${e.type} v${e.schemaVersion}) on ${a.streamId}`;
        const validate = this.validators.get(schemaKey(e.type, e.schemaVersion));
        if (!validate) return `${where}: unknown event type or schema version`;
        if (jsonDepth(e.data) > MAX_JSON_DEPTH || jsonDepth(e.metadata ?? {}) > MAX_JSON_DEPTH) {
          return `${where}: nested deeper than ${MAX_JSON_DEPTH}`;
        }
        if (!validate(e.data)) return `${where}: ${describe(validate)}`;
        if (e.metadata !== undefined && !this.metadata(e.metadata))
          return `${where}: metadata ${describe(this.metadata)}`;
        const bytes = measureCanonical(e);
        if (bytes > this.maxEventBytes) return `${where}: ${bytes} bytes, more than ${this.maxEventBytes}`;
      }
    }
    return null;
  }
}

/**
 * UTF-8 size of the event's data as it will be stored: its canonical JSON, which the appender
 * would compute anyway and is handed over so that it is computed once. (The same size as any
 * JSON.stringify of the value: the canonical form only orders the keys.) A value canonical JSON
 * refuses (a lone surrogate) is measured as JSON.stringify writes it and refused by the append.
 */
function measureCanonical(e: NewEvent): number {
  let data: string;
  let metadata: string;
  try {
    data = toCanonicalJson(e.data);
    metadata = toCanonicalJson(e.metadata ?? {});
  } catch {
    return approximateBytes(e.data);
  }
  rememberCanonicalText(e, data, metadata);
  return Buffer.byteLength(data, 'utf8');
}

function describe(v: ValidateFunction): string {
  const e = v.errors?.[0];
  if (!e) return 'does not match its schema';
  return `${e.instancePath || '(data)'} ${e.message ?? 'is invalid'}`.slice(0, 300);
}

/** UTF-8 size of the value's JSON (it was parsed from JSON, so it has one). */
function approximateBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');
}
