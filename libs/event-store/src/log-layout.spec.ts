import { logLayout, partitionSchema } from './log-layout.js';

const base = { pgUrl: 'postgres://a/agentos', pgSchema: 'agentos' };

describe('log layout', () => {
  it('puts partition 0 in the deployment schema and k in <schema>_p<k>, all on the base server', () => {
    expect(partitionSchema('agentos', 0)).toBe('agentos');
    expect(partitionSchema('agentos', 3)).toBe('agentos_p3');
    expect(logLayout(base, 2).placements).toEqual([
      { partition: 0, pgUrl: base.pgUrl, pgSchema: 'agentos' },
      { partition: 1, pgUrl: base.pgUrl, pgSchema: 'agentos_p1' },
    ]);
  });

  it('places partitions on other servers by AGENTOS_PG_PARTITIONS', () => {
    const l = logLayout(base, 4, '2-3=postgres://b/agentos;\n 1 = postgresql://c/x');
    expect(l.placements.map((p) => p.pgUrl)).toEqual([
      'postgres://a/agentos',
      'postgresql://c/x',
      'postgres://b/agentos',
      'postgres://b/agentos',
    ]);
  });

  it('refuses a map that does not fit the log', () => {
    expect(() => logLayout(base, 0)).toThrow(/1 to 256/);
    expect(() => logLayout(base, 2, '2=postgres://b/x')).toThrow(/has 2/);
    expect(() => logLayout(base, 4, '1=postgres://b/x;1=postgres://c/x')).toThrow(/twice/);
    expect(() => logLayout(base, 4, '1=mysql://b/x')).toThrow(/postgres:\/\//);
    expect(() => logLayout(base, 4, 'nonsense')).toThrow(/<partitions>=<url>/);
  });
});
