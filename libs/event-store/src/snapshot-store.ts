import type pg from 'pg';
import { PartitionedLog } from './partitioned-log.js';

export interface Snapshot<S> {
  streamId: string;
  version: number;
  position: number;
  state: S;
}

/**
 * Latest snapshot per stream and kind. A snapshot written with another schema version than the
 * reader's is ignored (the state is folded from the log instead), so changing a reducer never
 * needs a data migration.
 */
export interface SnapshotCodec<S> {
  encode(state: S): unknown;
  decode(json: unknown): S;
}

/** Snapshots live beside their stream, in its partition's schema. */
export class PgSnapshotStore<S> {
  private readonly log: PartitionedLog;

  constructor(
    log: PartitionedLog | pg.Pool,
    readonly kind: string,
    readonly schemaVersion: number,
    /** For states that are not plain JSON (maps, buffers). */
    private readonly codec?: SnapshotCodec<S>,
  ) {
    this.log = log instanceof PartitionedLog ? log : PartitionedLog.single(log);
  }

  async load(streamId: string): Promise<Snapshot<S> | null> {
    const r = await this.log
      .poolOf(streamId)
      .query(
        'SELECT version, position, state FROM snapshots WHERE stream_id = $1 AND kind = $2 AND schema_version = $3',
        [streamId, this.kind, this.schemaVersion],
      );
    if (!r.rowCount) return null;
    const row = r.rows[0] as { version: number; position: number; state: string };
    const json = JSON.parse(row.state) as unknown;
    return {
      streamId,
      version: row.version,
      position: row.position,
      state: this.codec ? this.codec.decode(json) : (json as S),
    };
  }

  /** Keeps the newest snapshot: an older one never replaces a newer one written by another replica. */
  async save(s: Snapshot<S>): Promise<void> {
    await this.log.poolOf(s.streamId).query(
      `INSERT INTO snapshots (stream_id, kind, version, position, schema_version, state)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (stream_id, kind) DO UPDATE
         SET version = EXCLUDED.version, position = EXCLUDED.position, schema_version = EXCLUDED.schema_version,
             state = EXCLUDED.state, created_at = now()
       WHERE snapshots.version < EXCLUDED.version OR snapshots.schema_version <> EXCLUDED.schema_version`,
      [
        s.streamId,
        this.kind,
        s.version,
        s.position,
        this.schemaVersion,
        JSON.stringify(this.codec ? this.codec.encode(s.state) : s.state),
      ],
    );
  }
}
