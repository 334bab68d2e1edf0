import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { Subjects, type SyscallReply } from '#contracts';
import { createPgPool, eventHash, partitionSchema, toCanonicalJson, type RecordedEvent } from '#event-store';
import { runCli } from '../support/cli.js';
import { eventPosition, testAgentPartition } from '../support/positions.js';
import { TEST_PARTITIONS, TEST_PG_URL } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** Runs with one partition and with several (AGENTOS_TEST_PARTITIONS): the same facts, in each one's terms. */
const PARTITIONED = TEST_PARTITIONS > 1;

/** Compliance: query, follow, stats, export and verification, time travel and what-if, through the CLI. */
describe('audit, verification, time travel and what-if', () => {
  let t: TestStack;
  let dir: string;
  let env: Record<string, string>;
  let n = 0;
  const sys = (agentId: string, syscall: string, args: Record<string, unknown> = {}) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: `a${++n}`, syscall, args });
  const cli = (...args: string[]) => runCli(args, env);
  const json = async (...args: string[]) => {
    const r = await cli('--json', ...args);
    if (r.stderr.includes('agentos:')) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  };
  /** The reply position of alice's read: `7` with one partition, `<alice's partition>:7` with several. */
  let midPosition = '';
  let midTime = '';
  /** Every partition's head position, partition 0 first. */
  const headPositions = async () => {
    const h = await t.request<{ position: number; heads?: { position: number }[] }>(Subjects.recorderHead, {});
    return (h.heads ?? [h]).map((x) => x.position);
  };

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'policy', 'kernel'] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-audit-'));
    env = {
      AGENTOS_NATS_URL: `nats://${t.nc.getServer().replace(/^nats:\/\//, '')}`,
      AGENTOS_SUBJECT_PREFIX: t.prefix,
    };
    await t.request(Subjects.adminAgentsCreate, { agentId: 'alice', role: 'writer' });
    await t.request(Subjects.adminAgentsCreate, { agentId: 'bob', role: 'reader' });
    for (let i = 0; i < 3; i++)
      await sys('alice', 'SYS_WRITE', { path: '/mem/working/diary', data: `day ${i}\n`, mode: 'a' });
    await sys('alice', 'SYS_OPEN', { path: '/mem/working/diary' });
    midPosition = (await sys('alice', 'SYS_READ', { path: '/mem/working/diary' })).position!;
    midTime = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(
      path.join(dir, 'v1.yaml'),
      'apiVersion: agentos/v1\nname: v1\nroles:\n  writer: { allow: [file_read, file_write, file_open, file_close, syscall_sys_stat, syscall_sys_getpolicy] }\n  reader: { allow: [file_read] }\n' +
        'rules:\n  - { name: no-secrets, priority: 9, match: { actions: [file_write] }, when: { field: args.path, operator: contains, value: secret }, effect: deny, onViolation: deny, message: no secrets }\n',
    );
    await json('policy', 'apply', path.join(dir, 'v1.yaml'));
    await new Promise((r) => setTimeout(r, 300));
    await sys('alice', 'SYS_WRITE', { path: '/mem/working/secret.txt', data: 'x' }); // denied by no-secrets
    await sys('alice', 'SYS_WRITE', { path: '/mem/working/diary', data: 'day 3\n', mode: 'a' });
    await sys('bob', 'SYS_WRITE', { path: '/mem/working/b', data: 'x' }); // denied by role, killed
  });
  afterAll(async () => {
    await t.close();
  });

  it('queries by agent, syscall, decision, rule, policy version and time, as a table and as JSON', async () => {
    const all = await json('audit', 'query', '--agent', 'alice', '--limit', '1000');
    expect(all.events.map((e: RecordedEvent) => e.streamId)).toEqual(Array(all.count).fill('agent:alice'));
    const writes = await json('audit', 'query', '--agent', 'alice', '--syscall', 'SYS_WRITE');
    expect(writes.count).toBe(5);
    const denied = await json('audit', 'query', '--decision', 'denied');
    expect(denied.events.map((e: any) => [e.streamId, e.data.decision.rule])).toEqual([
      ['agent:alice', 'no-secrets'],
      ['agent:bob', 'role:reader'],
    ]);
    expect((await json('audit', 'query', '--rule', 'no-secrets')).count).toBe(1);
    expect((await json('audit', 'query', '--policy-version', '1', '--syscall', 'SYS_WRITE')).count).toBe(3);
    expect((await json('audit', 'query', '--agent', 'alice', '--to', midTime, '--type', 'SyscallRecorded')).count).toBe(
      5,
    );
    const table = await cli('audit', 'query', '--agent', 'bob');
    expect(table.stdout).toContain('role:reader');
    expect(table.stdout).toMatch(/SIGKILL \(default\)/);
    const jsonl = await cli('audit', 'query', '--agent', 'bob', '--jsonl');
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.type)).toEqual(['AgentCreated', 'SyscallRecorded', 'SignalDelivered', 'SignalDelivered']);
  });

  it("gives the seed's statistics", async () => {
    const st = await json('audit', 'stats');
    expect(st.byDecision).toMatchObject({ denied: 2 });
    expect(st.topAgents[0]).toEqual({ agentId: 'alice', syscalls: 7 });
    expect(st.byErrorCode).toMatchObject({ '-2': 2 });
  });

  it('follows the log live', async () => {
    const following = cli('--json', 'audit', 'follow', '--agent', 'alice', '--max', '2', '--for', '20');
    await new Promise((r) => setTimeout(r, 1200));
    await sys('alice', 'SYS_STAT', { path: '/mem/working/diary' });
    await sys('alice', 'SYS_GETPOLICY');
    const r = await following;
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.data.syscall)).toEqual(['SYS_STAT', 'SYS_GETPOLICY']);
  });

  it('rebuilds an agent at a past position or time, and diffs two points (time travel)', async () => {
    const past = await json('replay', '--agent', 'alice', '--at', midPosition);
    expect(past).toMatchObject({
      state: 'running',
      policyInForce: null,
      descriptors: [{ fd: 1, path: '/mem/working/diary', mode: 'r' }],
    });
    expect(past.files).toEqual([expect.objectContaining({ path: '/mem/working/diary', size: 18 })]);
    const byTime = await json('replay', '--agent', 'alice', '--at', midTime);
    expect(eventPosition(byTime)).toBe(midPosition);
    const now = await json('replay', '--agent', 'bob', '--at', '999999999');
    expect(now).toMatchObject({
      state: 'terminated',
      terminatedBy: 'SIGKILL',
      policyInForce: { version: 1, name: 'v1' },
    });
    const diff = await json('replay-diff', '--agent', 'alice', '--from', midPosition, '--to', '999999999');
    expect(diff.changes.map((c: any) => c.what)).toEqual(
      expect.arrayContaining(['policyInForce', 'file /mem/working/diary', 'counters.violations']),
    );
    const human = await cli('replay', '--agent', 'alice', '--at', midPosition);
    expect(human.stdout).toContain('/mem/working/diary');
  });

  it('re-decides recorded syscalls under a candidate policy without touching the log (what-if)', async () => {
    const heads = await headPositions();
    writeFileSync(
      path.join(dir, 'strict.yaml'),
      'apiVersion: agentos/v1\nname: strict\nroles:\n  writer: { allow: [file_read, syscall_sys_stat, syscall_sys_getpolicy] }\n  reader: { allow: [file_read, file_write] }\n',
    );
    const r = await json('whatif', '--policy', path.join(dir, 'strict.yaml'));
    expect(r.byKind['allow→deny']).toBeGreaterThanOrEqual(5); // alice's writes and open
    expect(r.byKind['deny→allow']).toBe(1); // bob's write
    expect(r.changes.find((c: any) => c.agentId === 'bob')).toMatchObject({
      syscall: 'SYS_WRITE',
      kind: 'deny→allow',
      candidate: { allowed: true },
    });
    expect(await headPositions()).toEqual(heads);
    const scoped = await json('whatif', '--policy', path.join(dir, 'strict.yaml'), '--agent', 'bob');
    expect(scoped.changed).toBe(1);
  });

  it('signs checkpoints and exports, and verifies both, offline and against the live log', async () => {
    const keys = path.join(dir, 'keys');
    await json('audit', 'keygen', '--out', keys);
    const priv = path.join(keys, 'checkpoint-key.pem');
    const pub = path.join(keys, 'checkpoint-key.pub.pem');
    const cp = await json('audit', 'checkpoint', '--key', priv, '--out', path.join(dir, 'cp.json'));
    // one partition: the head; several: every partition's head in one signed checkpoint
    const cpHeads: { partition: number; position: number; hash: string }[] = PARTITIONED ? cp.heads : [cp];
    expect(cp).toMatchObject(
      PARTITIONED
        ? {
            format: 'agentos-checkpoint/v2',
            partitions: TEST_PARTITIONS,
            heads: Array.from({ length: TEST_PARTITIONS }, (_, partition) => ({
              partition,
              position: expect.any(Number),
              hash: expect.stringMatching(/^[0-9a-f]{64}$/),
            })),
            digest: expect.stringMatching(/^[0-9a-f]{64}$/),
            signature: expect.any(String),
          }
        : {
            format: 'agentos-checkpoint/v1',
            position: expect.any(Number),
            signature: expect.any(String),
          },
    );
    expect(cpHeads.map((h) => h.position)).toEqual(await headPositions());
    const total = cpHeads.reduce((n, h) => n + h.position, 0);
    expect(await json('audit', 'verify', '--checkpoint', path.join(dir, 'cp.json'), '--pubkey', pub)).toMatchObject({
      ok: true,
      checkpoint: 'matches',
    });

    const exp = path.join(dir, 'export');
    const manifest = await json('audit', 'export', '--out', exp, '--key', priv);
    expect(manifest).toMatchObject(
      PARTITIONED
        ? {
            format: 'agentos-export/v2',
            partitions: TEST_PARTITIONS,
            count: total,
            // each partition's end points: the whole chain, from its first event to the checkpointed head
            ranges: cpHeads.map((h) =>
              h.position === 0
                ? { partition: h.partition, count: 0, fromPosition: null, endHash: null }
                : {
                    partition: h.partition,
                    fromPosition: 1,
                    toPosition: h.position,
                    count: h.position,
                    startHash: '0'.repeat(64),
                    endHash: h.hash,
                  },
            ),
          }
        : {
            format: 'agentos-export/v1',
            fromPosition: 1,
            toPosition: cp.position,
            count: cp.position,
            endHash: cp.hash,
          },
    );
    expect(
      await json('audit', 'verify-export', exp, '--pubkey', pub, '--checkpoint', path.join(dir, 'cp.json')),
    ).toMatchObject({
      ok: true,
      signature: 'valid',
      checkpoint: 'matches',
    });
    const csv = readFileSync(path.join(exp, 'events.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(
      PARTITIONED ? /^partition,position,recorded_at,stream_id/ : /^position,recorded_at,stream_id/,
    );
    expect(csv).toHaveLength(total + 1);

    // a tampered export is caught: altered content (alice's "day 1" write), and a removed line ("day 0")
    const lines = readFileSync(path.join(exp, 'events.jsonl'), 'utf8').trim().split('\n');
    const day1 = lines.findIndex((l) => l.includes('day 1'));
    const day0 = lines.findIndex((l) => l.includes('day 0'));
    // the place a problem is reported at: the position, naming the partition when there are several
    const at = (line: string) => {
      const e = JSON.parse(line) as RecordedEvent;
      return { position: e.position, ...(PARTITIONED ? { partition: e.partition } : {}) };
    };
    if (!PARTITIONED) expect([day0, day1]).toEqual([2, 3]); // positions 3 and 4
    const altered = lines.map((l, i) => (i === day1 ? l.replace('day 1', 'day X') : l));
    writeFileSync(path.join(exp, 'events.jsonl'), altered.join('\n') + '\n');
    const bad = await cli('--json', 'audit', 'verify-export', exp, '--pubkey', pub);
    expect(bad.code).toBe(1);
    const badReport = JSON.parse(bad.stdout);
    expect(badReport).toMatchObject({ ok: false, firstBad: { ...at(lines[day1]), reason: 'hash_mismatch' } });
    expect(badReport.problems).toContain('events.jsonl does not match its digest in the manifest');
    writeFileSync(path.join(exp, 'events.jsonl'), lines.filter((_, i) => i !== day0).join('\n') + '\n');
    expect(JSON.parse((await cli('--json', 'audit', 'verify-export', exp)).stdout)).toMatchObject({
      ok: false,
      firstBad: { ...at(lines[day0]), reason: 'missing' },
    });
    // a forged manifest signature is caught
    const m = JSON.parse(readFileSync(path.join(exp, 'manifest.json'), 'utf8'));
    writeFileSync(path.join(exp, 'events.jsonl'), lines.join('\n') + '\n');
    writeFileSync(path.join(exp, 'manifest.json'), JSON.stringify({ ...m, count: m.count + 1 }));
    expect(JSON.parse((await cli('--json', 'audit', 'verify-export', exp, '--pubkey', pub)).stdout)).toMatchObject({
      ok: false,
      signature: 'invalid',
    });
  });

  it('finds a tampered table; a rewrite that recomputes every later hash is caught by the signed checkpoint', async () => {
    const keys = path.join(dir, 'keys');
    const pub = path.join(keys, 'checkpoint-key.pub.pem');
    const cp = JSON.parse(readFileSync(path.join(dir, 'cp.json'), 'utf8'));
    // alice's partition: the deployment's schema with one partition, `<schema>_p<k>` for partition k
    const pa = testAgentPartition('alice');
    const owner = createPgPool({ pgUrl: TEST_PG_URL, pgSchema: partitionSchema(t.schema, pa), pgRole: '' });
    const tamper = async (fn: (c: import('pg').PoolClient) => Promise<void>) => {
      const c = await owner.connect();
      try {
        await c.query('BEGIN');
        await c.query('SET LOCAL session_replication_role = replica');
        await fn(c);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    try {
      // naive: change one event's data (alice's third write: position 5 with one partition)
      const third = (
        await owner.query(`SELECT position FROM events WHERE stream_id = 'agent:alice' AND data LIKE '%day 2%'`)
      ).rows;
      expect(third).toHaveLength(1);
      const p5 = Number(third[0].position);
      if (!PARTITIONED) expect(p5).toBe(5);
      await tamper((c) =>
        c
          .query(`UPDATE events SET data = replace(data, 'day 2', 'day Z') WHERE position = $1`, [p5])
          .then(() => undefined),
      );
      const naive = await cli('--json', 'audit', 'verify');
      expect(naive.code).toBe(1);
      const naiveReport = JSON.parse(naive.stdout);
      expect(naiveReport.ok).toBe(false);
      // one partition: the report is the chain's; several: one report per partition, alice's failing
      const alices = PARTITIONED ? naiveReport.partitions.find((r: any) => r.partition === pa) : naiveReport;
      expect(alices).toMatchObject({ ok: false, firstBad: { position: p5, reason: 'hash_mismatch' } });
      if (PARTITIONED)
        expect(naiveReport.partitions.filter((r: any) => !r.ok).map((r: any) => r.partition)).toEqual([pa]);
      const human = await cli('audit', 'verify');
      expect(human.stdout).toContain(
        `FAILED: ${PARTITIONED ? `partition ${pa}: ` : ''}first bad event at position ${p5}`,
      );

      // careful: recompute every hash from the altered event on, and move the head
      await tamper(async (c) => {
        const rows = (
          await c.query(
            `SELECT position, stream_id, stream_version, event_id::text AS event_id, idempotency_key, type, schema_version, data, metadata, recorded_at, prev_hash FROM events WHERE position >= $1 ORDER BY position`,
            [p5],
          )
        ).rows;
        let prev = (await c.query('SELECT hash FROM events WHERE position = $1', [p5 - 1])).rows[0].hash as string;
        for (const r of rows) {
          const hash = eventHash({
            position: Number(r.position),
            streamId: r.stream_id,
            streamVersion: Number(r.stream_version),
            eventId: r.event_id,
            idempotencyKey: r.idempotency_key,
            type: r.type,
            schemaVersion: r.schema_version,
            dataJson: r.data,
            metadataJson: r.metadata,
            recordedAt: (r.recorded_at as Date).toISOString(),
            prevHash: prev,
          });
          await c.query('UPDATE events SET prev_hash = $1, hash = $2 WHERE position = $3', [prev, hash, r.position]);
          prev = hash;
        }
        await c.query('UPDATE log_head SET hash = $1', [prev]);
      });
      expect(JSON.parse((await cli('--json', 'audit', 'verify')).stdout)).toMatchObject({ ok: true });
      const withCheckpoint = await cli(
        '--json',
        'audit',
        'verify',
        '--checkpoint',
        path.join(dir, 'cp.json'),
        '--pubkey',
        pub,
      );
      expect(withCheckpoint.code).toBe(1);
      expect(JSON.parse(withCheckpoint.stdout)).toMatchObject(
        PARTITIONED
          ? { ok: false, checkpoint: 'does not match', checkpointPartitions: [pa] }
          : { ok: false, checkpoint: 'does not match', checkpointPosition: cp.position },
      );
    } finally {
      await owner.end();
    }
  });
  /**
   * What someone holding the export but not the private key can do: change an event, recompute
   * its hash and every later one, the file digests and the end hash, and drop the signature (or
   * sign with a key of their own). Only the signature check against the trusted key stops it.
   */
  const forge = (exp: string, edit: (e: RecordedEvent) => boolean) => {
    const events = readFileSync(path.join(exp, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RecordedEvent);
    // each partition's chain on its own (one partition: the one chain), from where the export starts it
    const prevOf = new Map<number, string>();
    let edited = 0;
    for (const e of events) {
      const p = e.partition ?? 0;
      const prev = prevOf.get(p) ?? e.prevHash;
      if (edit(e)) edited += 1;
      e.prevHash = prev;
      e.hash = eventHash({
        position: e.position,
        streamId: e.streamId,
        streamVersion: e.streamVersion,
        eventId: e.eventId,
        idempotencyKey: e.idempotencyKey,
        type: e.type,
        schemaVersion: e.schemaVersion,
        dataJson: toCanonicalJson(e.data),
        metadataJson: toCanonicalJson(e.metadata),
        recordedAt: e.recordedAt,
        prevHash: prev,
      });
      prevOf.set(p, e.hash);
    }
    expect(edited).toBeGreaterThan(0);
    writeFileSync(path.join(exp, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const m = JSON.parse(readFileSync(path.join(exp, 'manifest.json'), 'utf8'));
    for (const f of Object.keys(m.files)) {
      const bytes = readFileSync(path.join(exp, f));
      m.files[f] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    }
    // the end points: the chain's end (one partition), or each partition's range's end
    if (PARTITIONED) for (const r of m.ranges) r.endHash = prevOf.get(r.partition) ?? r.endHash;
    else m.endHash = prevOf.get(0);
    delete m.signature;
    writeFileSync(path.join(exp, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
    return m as Record<string, unknown>;
  };
  const keyIdOf = (pubPem: string) =>
    createHash('sha256')
      .update(createPublicKey(pubPem).export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16);

  it('refuses an unsigned (forged) manifest, or one signed by another key, when a public key is given', async () => {
    const keys = path.join(dir, 'keys');
    const priv = path.join(keys, 'checkpoint-key.pem');
    const pub = path.join(keys, 'checkpoint-key.pub.pem');
    const other = path.join(dir, 'other-keys');
    await json('audit', 'keygen', '--out', other);
    const otherPriv = path.join(other, 'checkpoint-key.pem');
    const otherPub = readFileSync(path.join(other, 'checkpoint-key.pub.pem'), 'utf8');

    const exp = path.join(dir, 'forged');
    await json('audit', 'export', '--out', exp, '--key', priv);
    expect(await json('audit', 'verify-export', exp, '--pubkey', pub)).toMatchObject({ ok: true, signature: 'valid' });

    // "day 1" becomes "day X", every hash after it recomputed, digests and end hash fixed, signature gone
    const forged = forge(exp, (e) => {
      const before = JSON.stringify(e.data);
      e.data = JSON.parse(before.replace('day 1', 'day X'));
      return JSON.stringify(e.data) !== before;
    });

    for (const run of [
      () => cli('--json', 'audit', 'verify-export', exp, '--pubkey', pub),
      () => runCli(['--json', 'audit', 'verify-export', exp], { ...env, AGENTOS_CHECKPOINT_PUBKEY: pub }),
    ]) {
      const r = await run();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not signed/);
      const report = JSON.parse(r.stdout);
      expect(report).toMatchObject({ ok: false, authenticated: false, signature: 'unsigned' });
      expect(report.firstBad).toBeUndefined(); // the forgery is internally consistent: only the signature gives it away
      expect(report.problems.join('; ')).toMatch(/not signed/);
    }
    const human = await cli('audit', 'verify-export', exp, '--pubkey', pub);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^FAILED: .*not signed/);

    // without a key the same files are consistent, and the output says plainly that nothing shows who wrote them
    const noKeyEnv = { ...env, AGENTOS_CHECKPOINT_PUBKEY: '' };
    const noKey = await runCli(['--json', 'audit', 'verify-export', exp], noKeyEnv);
    expect(noKey.code).toBe(0);
    expect(JSON.parse(noKey.stdout)).toMatchObject({ ok: true, authenticated: false, signature: 'unsigned' });
    expect(noKey.stderr).toMatch(/signature was not checked/);
    const noKeyHuman = await runCli(['audit', 'verify-export', exp], noKeyEnv);
    expect(noKeyHuman.stdout).not.toMatch(/^ok/m);
    expect(noKeyHuman.stdout).toMatch(/^NOT AUTHENTICATED: .*signature was not checked/);

    // the forger signs with a key of their own: naming it, or naming the trusted key
    const forgerSign = (keyId: string) => {
      const value = sign(
        null,
        Buffer.from(canonicalize(forged) as string, 'utf8'),
        createPrivateKey(readFileSync(otherPriv, 'utf8')),
      ).toString('base64');
      writeFileSync(path.join(exp, 'manifest.json'), JSON.stringify({ ...forged, signature: { keyId, value } }));
    };
    forgerSign(keyIdOf(otherPub));
    expect(await json('audit', 'verify-export', exp, '--pubkey', otherPub)).toMatchObject({
      ok: true,
      signature: 'valid',
    }); // the signature itself is sound, just not by the trusted key
    const byOther = await cli('--json', 'audit', 'verify-export', exp, '--pubkey', pub);
    expect(byOther.code).toBe(1);
    expect(byOther.stderr).toMatch(/signed by key [0-9a-f]{16}, not by the given key/);
    expect(JSON.parse(byOther.stdout)).toMatchObject({
      ok: false,
      authenticated: false,
      signature: 'other key',
      signatureKeyId: keyIdOf(otherPub),
      expectedKeyId: keyIdOf(readFileSync(pub, 'utf8')),
    });
    forgerSign(keyIdOf(readFileSync(pub, 'utf8')));
    const claimed = await cli('--json', 'audit', 'verify-export', exp, '--pubkey', pub);
    expect(claimed.code).toBe(1);
    expect(JSON.parse(claimed.stdout)).toMatchObject({ ok: false, signature: 'invalid' });

    // an honest export signed by another key is refused too
    const otherExp = path.join(dir, 'other-export');
    await json('audit', 'export', '--out', otherExp, '--key', otherPriv);
    const r = await cli('--json', 'audit', 'verify-export', otherExp, '--pubkey', pub);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, signature: 'other key' });
    expect(await json('audit', 'verify-export', otherExp, '--pubkey', otherPub)).toMatchObject({
      ok: true,
      authenticated: true,
      signature: 'valid',
    });
  });

  it('refuses a checkpoint without a signature, or signed by another key, when verifying the log or an export', async () => {
    const keys = path.join(dir, 'keys');
    const priv = path.join(keys, 'checkpoint-key.pem');
    const pub = path.join(keys, 'checkpoint-key.pub.pem');
    const otherPriv = path.join(dir, 'other-keys', 'checkpoint-key.pem');
    const cpFile = path.join(dir, 'cp-now.json');
    const cp = await json('audit', 'checkpoint', '--key', priv, '--out', cpFile);
    expect(await json('audit', 'verify', '--checkpoint', cpFile, '--pubkey', pub)).toMatchObject({
      ok: true,
      checkpoint: 'matches',
    });
    const exp = path.join(dir, 'cp-export');
    // up to the checkpoint: its position, or (several partitions) each partition's checkpointed head
    const upTo = PARTITIONED
      ? cp.heads.map((h: { partition: number; position: number }) => `${h.partition}:${h.position}`).join(',')
      : String(cp.position);
    await json('audit', 'export', '--out', exp, '--key', priv, '--to-position', upTo);
    expect(await json('audit', 'verify-export', exp, '--pubkey', pub, '--checkpoint', cpFile)).toMatchObject({
      ok: true,
      checkpoint: 'matches',
    });

    const unsigned = path.join(dir, 'cp-unsigned.json');
    const { signature: _dropped, ...body } = cp;
    writeFileSync(unsigned, JSON.stringify(body, null, 2));
    const otherCp = path.join(dir, 'cp-other.json');
    await json('audit', 'checkpoint', '--key', otherPriv, '--out', otherCp);
    for (const [file, status, message] of [
      [unsigned, 'unsigned', /checkpoint is not signed/],
      [otherCp, 'other key', /checkpoint is signed by key [0-9a-f]{16}, not by the given key/],
    ] as const) {
      const v = await cli('--json', 'audit', 'verify', '--checkpoint', file, '--pubkey', pub);
      expect(v.code).toBe(1);
      expect(v.stderr).toMatch(message);
      expect(JSON.parse(v.stdout)).toMatchObject({
        ok: false,
        checkpoint: 'signature invalid',
        checkpointSignature: status,
      });
      const viaEnv = await runCli(['audit', 'verify', '--checkpoint', file], {
        ...env,
        AGENTOS_CHECKPOINT_PUBKEY: pub,
      });
      expect(viaEnv.code).toBe(1);
      expect(viaEnv.stdout).toMatch(/^FAILED: /);
      const e = await cli('--json', 'audit', 'verify-export', exp, '--pubkey', pub, '--checkpoint', file);
      expect(e.code).toBe(1);
      expect(e.stderr).toMatch(message);
      expect(JSON.parse(e.stdout)).toMatchObject({
        ok: false,
        signature: 'valid',
        checkpoint: 'signature invalid',
        checkpointSignature: status,
      });
    }
    // a checkpoint is only worth its signature: without a key to check it, both commands refuse
    for (const args of [
      ['audit', 'verify', '--checkpoint', cpFile],
      ['audit', 'verify-export', exp, '--checkpoint', cpFile],
    ]) {
      const r = await runCli(args, { ...env, AGENTOS_CHECKPOINT_PUBKEY: '' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--pubkey .* is needed to check the checkpoint signature/);
    }
  });

  it('keygen refuses to overwrite either key file unless --force, and writes the private key 0600, both or neither', async () => {
    const k = path.join(dir, 'keygen');
    const priv = path.join(k, 'checkpoint-key.pem');
    const pub = path.join(k, 'checkpoint-key.pub.pem');
    await json('audit', 'keygen', '--out', k);
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    const first = { priv: readFileSync(priv, 'utf8'), pub: readFileSync(pub, 'utf8') };
    const cpFile = path.join(dir, 'cp-before-force.json');
    await json('audit', 'checkpoint', '--key', priv, '--out', cpFile);

    const again = await cli('audit', 'keygen', '--out', k);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(priv);
    expect(again.stderr).toContain('--force');
    const againJson = await cli('--json', 'audit', 'keygen', '--out', k);
    expect(againJson.code).toBe(1);
    expect(JSON.parse(againJson.stdout)).toMatchObject({ ok: false, existing: [priv, pub] });
    expect(readFileSync(priv, 'utf8')).toBe(first.priv);
    expect(readFileSync(pub, 'utf8')).toBe(first.pub);
    expect(await json('audit', 'verify', '--checkpoint', cpFile, '--pubkey', pub)).toMatchObject({ ok: true });

    // either file alone is enough to refuse, and nothing is written beside it
    for (const [keep, gone] of [
      [pub, priv],
      [priv, pub],
    ]) {
      const saved = readFileSync(gone, 'utf8');
      rmSync(gone);
      const r = await cli('audit', 'keygen', '--out', k);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(keep);
      expect(r.stderr).toContain('--force');
      expect(existsSync(gone)).toBe(false);
      writeFileSync(gone, saved, { mode: gone === priv ? 0o600 : 0o644 });
    }
    expect(readdirSync(k).sort()).toEqual(['checkpoint-key.pem', 'checkpoint-key.pub.pem']);

    // --force replaces the pair: a matching new pair, private 0600, no leftovers
    const forced = await json('audit', 'keygen', '--out', k, '--force');
    expect(forced).toMatchObject({ ok: true, privateKey: priv, publicKey: pub, replaced: [priv, pub] });
    const second = { priv: readFileSync(priv, 'utf8'), pub: readFileSync(pub, 'utf8') };
    expect(second.priv).not.toBe(first.priv);
    expect(second.pub).not.toBe(first.pub);
    expect(createPublicKey(createPrivateKey(second.priv)).export({ type: 'spki', format: 'pem' })).toBe(second.pub);
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(readdirSync(k).sort()).toEqual(['checkpoint-key.pem', 'checkpoint-key.pub.pem']);
    // which is why it is refused by default: what the old key signed no longer verifies
    const old = await cli('--json', 'audit', 'verify', '--checkpoint', cpFile, '--pubkey', pub);
    expect(old.code).toBe(1);
    expect(JSON.parse(old.stdout)).toMatchObject({ ok: false, checkpointSignature: 'other key' });
  });
});
