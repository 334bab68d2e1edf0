import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { estimateNesting } from './nesting-guard.js';

describe('estimateNesting', () => {
  it('counts flow nesting exactly, whatever the brackets inside quotes and comments', () => {
    expect(estimateNesting('[[[1]]]').depth).toBe(3);
    expect(estimateNesting('{"a": {"b": [1, {"c": 2}]}}').depth).toBe(4);
    expect(estimateNesting(`a: '[[[[[['\nb: "{{{{"\nc: x # [[[[[[\n`).depth).toBe(1);
  });

  it('follows block nesting by indentation and indicators', () => {
    expect(estimateNesting('a:\n  b:\n    c: 1\n').depth).toBe(3);
    expect(estimateNesting('- - - x\n').depth).toBe(3);
    expect(estimateNesting('a:\n  - b: 1\n    c:\n      - d\n').depth).toBe(4);
    expect(estimateNesting('a: 1\nb: 2\nc: 3\n').depth).toBe(1);
  });

  it('is not fooled by comments at the margin or inflated by block scalars and multi-line strings', () => {
    let deep = '';
    for (let i = 0; i < 10; i++) deep += `${' '.repeat(2 * i)}k${i}:\n# a comment at the margin\n`;
    expect(estimateNesting(deep).depth).toBe(10);
    const text = 'a: |\n  line\n      indented more\n          and more\nb: "multi\n        line"\nc: 1\n';
    expect(estimateNesting(text).depth).toBe(1);
  });

  it('stays close to the real depth of the example policy, and says where the deepest point is', () => {
    const fleet = readFileSync(
      fileURLToPath(new URL('../../../examples/policies/fleet.yaml', import.meta.url)),
      'utf8',
    );
    const e = estimateNesting(fleet);
    expect(e.depth).toBeGreaterThanOrEqual(4);
    expect(e.depth).toBeLessThanOrEqual(8);
    expect(fleet.slice(e.offset)).toMatch(/^[\S]/);
  });

  it('stops early on hostile input, in linear time', () => {
    const t0 = performance.now();
    const e = estimateNesting('['.repeat(200_000), 64);
    expect(e).toEqual({ depth: 65, offset: 64 });
    expect(estimateNesting('- '.repeat(100_000) + 'x', 64).depth).toBe(65);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
