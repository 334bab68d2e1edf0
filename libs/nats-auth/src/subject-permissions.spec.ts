import { agentInboxPrefix, permissionsFor, serviceInboxPrefix, SERVICE_ROLES } from './subject-permissions.js';

describe('permissionsFor', () => {
  const o = { subjectPrefix: 'acme' };

  it('confines an agent to its own syscall subject, inbox and signals', () => {
    expect(permissionsFor({ role: 'agent', agentId: 'a-1' }, o)).toEqual({
      pub: ['acme.v1.syscall.a-1'],
      sub: ['_INBOX.a-1.>', 'acme.v1.signal.a-1'],
      allowResponses: false,
    });
  });

  it('lets a tool receive its calls and only answer them', () => {
    expect(permissionsFor({ role: 'tool', name: 'lookup' }, o)).toEqual({
      pub: [],
      sub: ['acme.v1.tool.lookup'],
      allowResponses: true,
    });
  });

  it('gives each service exactly its subjects, with its own inbox prefix', () => {
    expect(permissionsFor({ role: 'kernel' }, o)).toEqual({
      pub: [
        'acme.v1.recorder.append',
        'acme.v1.recorder.read.>',
        'acme.v1.recorder.head',
        'acme.internal.recorder.>',
        'acme.internal.vfs.>',
        'acme.v1.tool.>',
        'acme.v1.signal.>',
      ],
      sub: ['acme.v1.syscall.*', 'acme.v1.admin.>', 'acme.internal.feed.>', '_INBOX.$kernel.>'],
      allowResponses: true,
    });
    expect(permissionsFor({ role: 'policy' }, o)).toEqual({
      pub: ['acme.v1.recorder.append', 'acme.v1.recorder.read.>', 'acme.v1.recorder.head'],
      sub: ['acme.v1.policy.>', 'acme.internal.feed.>', '_INBOX.$policy.>'],
      allowResponses: true,
    });
    expect(permissionsFor({ role: 'recorder' }, o)).toEqual({
      pub: ['acme.internal.feed.>', 'acme.v1.events.appended'],
      sub: ['acme.v1.recorder.>', 'acme.v1.audit.>', 'acme.internal.recorder.>'],
      allowResponses: true,
    });
    expect(permissionsFor({ role: 'vfs' }, o)).toEqual({
      pub: ['acme.v1.recorder.read.>'],
      sub: ['acme.internal.vfs.>', 'acme.internal.feed.>', '_INBOX.$vfs.>'],
      allowResponses: true,
    });
  });

  it('gives the operator ring 0 and read access, and the MCP gateway syscalls for any agent', () => {
    expect(permissionsFor({ role: 'operator' }, o)).toEqual({
      pub: [
        'acme.v1.admin.>',
        'acme.v1.policy.>',
        'acme.v1.audit.>',
        'acme.v1.recorder.read.>',
        'acme.v1.recorder.head',
        'acme.v1.recorder.verify',
        'acme.v1.recorder.health',
      ],
      sub: ['_INBOX.>', 'acme.v1.events.appended', 'acme.v1.signal.>'],
      allowResponses: false,
    });
    expect(permissionsFor({ role: 'mcp' }, o)).toEqual({
      pub: ['acme.v1.syscall.*', 'acme.v1.admin.tools.list'],
      sub: ['_INBOX.$mcp.>'],
      allowResponses: false,
    });
  });

  it('uses the protocol prefix by default and never rewrites _INBOX subjects', () => {
    expect(permissionsFor({ role: 'agent', agentId: 'a1' }).pub).toEqual(['agentos.v1.syscall.a1']);
    for (const role of SERVICE_ROLES) {
      const p = permissionsFor({ role }, o);
      for (const s of [...p.pub, ...p.sub]) expect(s).toMatch(/^(acme\.|_INBOX\.)/);
    }
  });

  it('refuses ids that would widen the grant, and bad prefixes', () => {
    for (const agentId of ['*', '>', 'a.b', 'a b', '', '$kernel']) {
      expect(() => permissionsFor({ role: 'agent', agentId }, o)).toThrow(/invalid agent id/);
    }
    expect(() => permissionsFor({ role: 'tool', name: 'x.>' }, o)).toThrow(/invalid tool name/);
    expect(() => permissionsFor({ role: 'kernel' }, { subjectPrefix: 'a.b' })).toThrow(/invalid subject prefix/);
  });

  it('keeps service inboxes out of reach of any agent inbox', () => {
    expect(serviceInboxPrefix('kernel')).toBe('_INBOX.$kernel');
    expect(agentInboxPrefix('kernel')).toBe('_INBOX.kernel');
    expect(permissionsFor({ role: 'agent', agentId: 'kernel' }, o).sub).not.toContain('_INBOX.$kernel.>');
  });
});
