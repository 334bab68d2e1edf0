import { compileCondition } from './conditions.js';
import type { PolicyRequest } from './policy-decision.js';
import type { Condition, Operator } from './policy-document.js';

const req: PolicyRequest = {
  agentId: 'a1',
  role: 'writer',
  action: 'file_write',
  syscall: 'SYS_WRITE',
  args: { path: '/mem/working/notes.txt', size: 10, tags: ['x', 'y'], opts: { mode: 'a' }, nothing: null },
  context: { team: 'blue' },
  ring: 3,
};
const roleContext = { clearance: 2, team: 'red', region: 'eu' };
const holds = (c: Condition, r: PolicyRequest = req) => compileCondition(c)(r, roleContext);
const cmp = (field: string, operator: Operator, value: unknown) => holds({ field, operator, value });

describe('conditions', () => {
  it.each([
    ['eq', 'args.path', '/mem/working/notes.txt', true],
    ['eq', 'args.opts', { mode: 'a' }, true],
    ['eq', 'args.size', '10', false],
    ['ne', 'args.size', 11, true],
    ['ne', 'args.size', 10, false],
    ['gt', 'args.size', 9, true],
    ['gt', 'args.size', 10, false],
    ['gt', 'args.size', '9', false],
    ['gte', 'args.size', 10, true],
    ['lt', 'args.size', 11, true],
    ['lte', 'args.size', 9, false],
    ['lt', 'args.path', '/n', true],
    ['in', 'action', ['file_read', 'file_write'], true],
    ['in', 'args.opts', [{ mode: 'a' }], true],
    ['not_in', 'action', ['file_read'], true],
    ['not_in', 'action', ['file_write'], false],
    ['contains', 'args.path', 'notes', true],
    ['contains', 'args.tags', 'y', true],
    ['contains', 'args.tags', 'z', false],
    ['contains', 'args.opts', 'mode', true],
    ['matches', 'args.path', '^/mem/working/[a-z]+\\.txt$', true],
    ['matches', 'args.path', '^/mem/episodic/', false],
    ['matches', 'args.size', '1', false],
  ] as const)('%s on %s %j → %s', (operator, field, value, expected) => {
    expect(cmp(field, operator, value)).toBe(expected);
  });

  it('treats a missing (or null) attribute as false for every operator, so not of it is true', () => {
    const operators: [Operator, unknown][] = [
      ['eq', 1],
      ['ne', 1],
      ['gt', 1],
      ['lt', 1],
      ['gte', 1],
      ['lte', 1],
      ['in', [1]],
      ['not_in', [1]],
      ['contains', 'x'],
      ['matches', 'x'],
    ];
    for (const [operator, value] of operators) {
      for (const field of ['args.missing', 'args.nothing', 'args.path.deeper', 'context.nope', 'unknown']) {
        expect(cmp(field, operator, value)).toBe(false);
        expect(holds({ not: { field, operator, value } })).toBe(true);
      }
    }
  });

  it('reads the roots: args, context (the request first, then the role), agent, action, syscall, ring', () => {
    expect(cmp('agent.id', 'eq', 'a1')).toBe(true);
    expect(cmp('agent.role', 'eq', 'writer')).toBe(true);
    expect(cmp('syscall', 'eq', 'SYS_WRITE')).toBe(true);
    expect(cmp('ring', 'lte', 3)).toBe(true);
    expect(cmp('context.team', 'eq', 'blue')).toBe(true);
    expect(cmp('context.clearance', 'eq', 2)).toBe(true);
    // role context attributes also at the top level, as the seed merged them
    expect(cmp('region', 'eq', 'eu')).toBe(true);
    expect(cmp('team', 'eq', 'blue')).toBe(true);
    expect(cmp('args.tags.1', 'eq', 'y')).toBe(true);
    expect(holds({ field: 'context.team', operator: 'eq', value: 'red' }, { ...req, context: undefined })).toBe(true);
  });

  it('follows own properties only', () => {
    expect(cmp('args.constructor', 'ne', 1)).toBe(false);
    expect(cmp('args.path.length', 'gt', 0)).toBe(false);
    expect(cmp('context.toString', 'ne', 1)).toBe(false);
  });

  it('combines with all (AND), any (OR) and not, nested', () => {
    const big = { field: 'args.size', operator: 'gt', value: 5 } as const;
    const eur = { field: 'args.currency', operator: 'eq', value: 'EUR' } as const;
    const blue = { field: 'context.team', operator: 'eq', value: 'blue' } as const;
    expect(holds({ all: [big, blue] })).toBe(true);
    expect(holds({ all: [big, eur] })).toBe(false);
    expect(holds({ any: [eur, blue] })).toBe(true);
    expect(holds({ any: [eur, { not: big }] })).toBe(false);
    expect(holds({ not: { all: [big, { any: [eur, { not: blue }] }] } })).toBe(true);
  });
});
