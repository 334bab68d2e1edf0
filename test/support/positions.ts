import { parsePosition } from '#contracts';
import { TEST_PARTITIONS } from './test-env.js';

/** A reply's `position` as this run's log writes it: `42` with one partition, `3:42` with several. */
export const POSITION_PATTERN = TEST_PARTITIONS > 1 ? /^\d+:\d+$/ : /^\d+$/;

/** A reply's position as partition and offset (throws on anything else: the test should fail). */
export function replyPosition(text: string | undefined): { partition: number; offset: number } {
  const p = text === undefined ? null : parsePosition(text);
  if (!p) throw new Error(`not a position: ${String(text)}`);
  return p;
}
