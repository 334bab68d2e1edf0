import {
  agentPartition,
  fnv1a32,
  formatPosition,
  parsePartitionList,
  parsePosition,
  partitionOf,
  policyFenceStream,
} from './partitions.js';

describe('partitions', () => {
  it('hashes with FNV-1a (32 bits), stable across processes and languages', () => {
    // reference values of FNV-1a 32 (the published test vectors)
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('places agents by the hash of their id, fences in their partition, everything else in 0', () => {
    expect(partitionOf('agent:foobar', 4)).toBe(0xbf9cf968 % 4);
    expect(agentPartition('foobar', 4)).toBe(partitionOf('agent:foobar', 4));
    expect(partitionOf('$policy', 4)).toBe(0);
    expect(partitionOf('$tools', 4)).toBe(0);
    expect(partitionOf(policyFenceStream(3), 4)).toBe(3);
    expect(partitionOf('$policy@9', 4)).toBe(0); // not a partition of this log
    expect(partitionOf('$policy@01', 4)).toBe(0);
    expect(partitionOf('agent:anything', 1)).toBe(0);
    expect(policyFenceStream(0)).toBe('$policy');
  });

  it('spreads many agents over every partition', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[agentPartition(`agent-${i}`, 4)] += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('writes positions as one-partition logs always did, and reads both forms back', () => {
    expect(formatPosition(0, 42, 1)).toBe('42');
    expect(formatPosition(3, 42, 4)).toBe('3:42');
    expect(parsePosition('42')).toEqual({ partition: 0, offset: 42 });
    expect(parsePosition('3:42')).toEqual({ partition: 3, offset: 42 });
    for (const bad of ['', 'x', '3:', ':4', '-1', '1:2:3', '99999999999999999']) expect(parsePosition(bad)).toBeNull();
  });

  it('reads partition lists and ranges', () => {
    expect(parsePartitionList('0-2, 5')).toEqual([0, 1, 2, 5]);
    expect(() => parsePartitionList('3-1')).toThrow(/backwards/);
    expect(() => parsePartitionList('a')).toThrow(/not a partition/);
    expect(() => parsePartitionList('300')).toThrow(/beyond/);
  });
});
