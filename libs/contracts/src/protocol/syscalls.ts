/** The 20 syscall names of the seed's SyscallType, in its order. */
export const SYSCALL_NAMES = [
  'SYS_FORK',
  'SYS_EXIT',
  'SYS_WAIT',
  'SYS_EXEC',
  'SYS_OPEN',
  'SYS_CLOSE',
  'SYS_READ',
  'SYS_WRITE',
  'SYS_STAT',
  'SYS_MMAP',
  'SYS_MUNMAP',
  'SYS_BRK',
  'SYS_PIPE',
  'SYS_SEND',
  'SYS_RECV',
  'SYS_SIGNAL',
  'SYS_SIGACTION',
  'SYS_SIGPROCMASK',
  'SYS_GETPOLICY',
  'SYS_CHECKPOLICY',
] as const;

export type SyscallName = (typeof SYSCALL_NAMES)[number];

const NAMES = new Set<string>(SYSCALL_NAMES);

export function isSyscallName(x: unknown): x is SyscallName {
  return typeof x === 'string' && NAMES.has(x);
}

/** Syscalls that touch the agent's virtual file system (executed by the VFS service). */
export const VFS_SYSCALLS = [
  'SYS_OPEN',
  'SYS_CLOSE',
  'SYS_READ',
  'SYS_WRITE',
  'SYS_STAT',
] as const satisfies readonly SyscallName[];
export type VfsSyscallName = (typeof VFS_SYSCALLS)[number];

export function isVfsSyscall(s: string): s is VfsSyscallName {
  return (VFS_SYSCALLS as readonly string[]).includes(s);
}

const ACTIONS: Partial<Record<SyscallName, string>> = {
  SYS_READ: 'file_read',
  SYS_WRITE: 'file_write',
  SYS_OPEN: 'file_open',
  SYS_CLOSE: 'file_close',
  SYS_FORK: 'agent_spawn',
  SYS_EXIT: 'agent_exit',
  SYS_SIGNAL: 'signal_send',
  SYS_SEND: 'ipc_send',
  SYS_RECV: 'ipc_recv',
  SYS_MMAP: 'memory_map',
  SYS_MUNMAP: 'memory_unmap',
};

/**
 * The policy action a syscall asks for, as in the seed: file_read, file_write, ...; SYS_EXEC asks
 * for the tool's own name; anything else is `syscall_<name lowercased>`.
 */
export function policyActionFor(syscall: SyscallName, args: Record<string, unknown>): string {
  if (syscall === 'SYS_EXEC') return typeof args.tool === 'string' && args.tool ? args.tool : 'unknown_tool';
  return ACTIONS[syscall] ?? `syscall_${syscall.toLowerCase()}`;
}

/**
 * The arguments a policy sees: the syscall's own, except for SYS_EXEC, whose action is the tool,
 * so its arguments are the tool's (`args.args`), as the seed checked tool calls.
 */
export function policyArgsFor(syscall: SyscallName, args: Record<string, unknown>): Record<string, unknown> {
  if (syscall !== 'SYS_EXEC') return args;
  const inner = args.args;
  return inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
}
