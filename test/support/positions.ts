import { agentPartition, formatPosition, parsePosition } from '#contracts';
import { TEST_PARTITIONS } from './test-env.js';

/** A reply's `position` as this run's log writes it: `42` with one partition, `3:42` with several. */
export const POSITION_PATTERN = TEST_PARTITIONS > 1 ? /^\d+:\d+$/ : /^\d+$/;

/** A reply's position as partition and offset (throws on anything else: the test should fail). */
export function replyPosition(text: string | undefined): { partition: number; offset: number } {
  const p = text === undefined ? null : parsePosition(text);
  if (!p) throw new Error(`not a position: ${String(text)}`);
  return p;
}

/**
 * The position of an event in agent `agentId`'s stream, as replies and notices show it: `42` with
 * one partition (POSITION_PATTERN), `<the agent's partition>:42` with several.
 */
export function agentPositionPattern(agentId: string): RegExp {
  return TEST_PARTITIONS > 1 ? new RegExp(`^${agentPartition(agentId, TEST_PARTITIONS)}:\\d+$`) : POSITION_PATTERN;
}

/**
 * `recorder.read.all` from just before a reply's position: `{after}` in the partition the
 * position names (`partition` is sent only when the log has several, as with one it is absent).
 * Add `limit: 1` or `toPosition` to read the event itself.
 */
export function readAllFrom(position: string | undefined): { partition?: number; after: number } {
  const p = replyPosition(position);
  return { ...(TEST_PARTITIONS > 1 ? { partition: p.partition } : {}), after: p.offset - 1 };
}

/** The partition of agent `agentId` in this run's log (0 with one partition). */
export function testAgentPartition(agentId: string): number {
  return agentPartition(agentId, TEST_PARTITIONS);
}

/** A recorded event's place in the log as replies name it: `42` with one partition, `3:42` with several. */
export function eventPosition(e: { partition?: number; position: number }): string {
  return formatPosition(e.partition ?? 0, e.position, TEST_PARTITIONS);
}
