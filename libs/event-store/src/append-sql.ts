/**
 * The statements of the append path. The hot ones are named (prepared once per connection and
 * planned generically): their plans do not depend on the values, and parse/plan was half of
 * Postgres's time per append when they were sent as text each time.
 *
 * Text columns travel as one parameter each, joined with a separator that cannot occur in them
 * and split by `string_to_array` in Postgres: far cheaper on both sides than array literals, which
 * the driver builds by escaping every quote of every JSON text. The separators:
 * - RS (U+001E) for stream ids (printable ASCII), data and metadata (canonical JSON, which
 *   escapes every control character);
 * - ',' for event ids (UUIDs), types (letters, digits, `_.:-`), hashes (hex) and integers.
 * Idempotency keys may hold any character but U+0000, so they are a text[] (empty when no event of
 * the batch has one: unnest pads with NULL).
 */
export const RS = '\u001e';

/**
 * One batch, one statement, autocommit: move the head from where this writer last saw it and
 * insert the batch's events, or (the head is elsewhere: another writer appended) do nothing and
 * return no rows. Under READ COMMITTED the UPDATE waits for a concurrent writer's row lock and then
 * re-checks its WHERE on the new head, so at most one writer extends a given head; the INSERT runs
 * only when the UPDATE matched (its InitPlan reads `upd` first, so the head row is locked before any
 * event is inserted). A unique violation (a known event id or idempotency key) fails the whole
 * statement, head included.
 *
 * $1 new head position, $2 new head hash, $3 recorded_at, $4 expected head position, $5 expected
 * head hash, $6 stream ids (RS), $7 stream versions (','), $8 event ids (','), $9 keys (text[]),
 * $10 types (','), $11 schema versions (','), $12 data (RS), $13 metadata (RS), $14 prev hashes
 * (','), $15 hashes (',').
 */
export const FAST_APPEND_SQL = {
  name: 'agentos_append_v1',
  text: `WITH upd AS (
  UPDATE log_head SET position = $1::bigint, hash = $2::text, recorded_at = $3::timestamptz
   WHERE position = $4::bigint AND hash = $5::text
  RETURNING 1)
INSERT INTO events (position, stream_id, stream_version, event_id, idempotency_key, type,
                    schema_version, data, metadata, recorded_at, prev_hash, hash)
SELECT $4::bigint + t.n, t.stream_id, t.stream_version, t.event_id, t.idempotency_key, t.type,
       t.schema_version, t.data, t.metadata, $3::timestamptz, t.prev_hash, t.hash
  FROM unnest(string_to_array($6::text, E'\\x1e'), string_to_array($7::text, ',')::bigint[],
              string_to_array($8::text, ',')::uuid[], $9::text[], string_to_array($10::text, ','),
              string_to_array($11::text, ',')::int[], string_to_array($12::text, E'\\x1e'),
              string_to_array($13::text, E'\\x1e'), string_to_array($14::text, ','),
              string_to_array($15::text, ','))
       WITH ORDINALITY AS t(stream_id, stream_version, event_id, idempotency_key, type,
                            schema_version, data, metadata, prev_hash, hash, n)
 WHERE EXISTS (SELECT 1 FROM upd)`,
};

/**
 * The head, and (when $1 >= 0) the last version of every stream written after position $1, as long
 * as that is at most $2 events: what a writer whose cache is exact at $1 needs to be exact again.
 * One snapshot, so the head and the events agree. One row per stream, or one row with NULL
 * stream_id when nothing was written after $1 (or $1 < 0, or the gap is too long). `hash_at` is
 * the hash of the event at $1, so that the writer can tell that its cache is of this log's history.
 */
export const HEAD_CATCH_UP_SQL = {
  name: 'agentos_head_catch_up_v2',
  text: `SELECT h.position, h.hash, h.recorded_at, c.stream_id, c.version,
       (SELECT e0.hash FROM events e0 WHERE e0.position = $1::bigint) AS hash_at
  FROM log_head h
  LEFT JOIN LATERAL (
    SELECT e.stream_id, max(e.stream_version) AS version
      FROM events e
     WHERE $1::bigint >= 0 AND h.position - $1::bigint <= $2::bigint
       AND e.position > $1::bigint AND e.position <= h.position
     GROUP BY e.stream_id) c ON true`,
};

/** The current version of each stream in $1 (RS-separated ids); 0 for a stream without events. */
export const STREAM_VERSIONS_SQL = {
  name: 'agentos_stream_versions_v1',
  text: `SELECT s.id AS stream_id,
       COALESCE((SELECT e.stream_version FROM events e WHERE e.stream_id = s.id
                 ORDER BY e.stream_version DESC LIMIT 1), 0) AS version
  FROM unnest(string_to_array($1::text, E'\\x1e')) AS s(id)`,
};

/** Whether any of the event ids ($1, uuid[]) or (stream, key) pairs ($2, $3) is in the log. */
export const ANY_KNOWN_SQL = `SELECT 1 FROM events WHERE event_id = ANY($1::uuid[])
UNION ALL
SELECT 1 FROM events e JOIN unnest($2::text[], $3::text[]) AS k(s, key)
  ON e.stream_id = k.s AND e.idempotency_key = k.key
LIMIT 1`;
