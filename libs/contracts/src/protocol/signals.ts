/** Signal numbers of the seed's signals.py. */
export const SIGNALS = {
  SIGSTOP: 1,
  SIGCONT: 2,
  SIGINT: 3,
  SIGKILL: 4,
  SIGTERM: 5,
  SIGUSR1: 6,
  SIGUSR2: 7,
  SIGPOLICY: 8,
  SIGTRUST: 9,
  SIGBUDGET: 10,
  SIGLOOP: 11,
  SIGDRIFT: 12,
} as const;

export type SignalName = keyof typeof SIGNALS;
export type SignalNumber = (typeof SIGNALS)[SignalName];

const BY_NUMBER = new Map<number, SignalName>(Object.entries(SIGNALS).map(([k, v]) => [v, k as SignalName]));

/** Neither blockable nor ignorable nor handleable (SIGPOLICY too, unlike the seed). */
export const UNMASKABLE: ReadonlySet<SignalName> = new Set(['SIGKILL', 'SIGPOLICY']);

export type DefaultAction = 'stop' | 'continue' | 'terminate' | 'escalate' | 'none';

/** What happens when a signal is delivered with its default disposition. */
export const DEFAULT_ACTIONS: Record<SignalName, DefaultAction> = {
  SIGSTOP: 'stop',
  SIGINT: 'stop',
  SIGBUDGET: 'stop',
  SIGCONT: 'continue',
  SIGTERM: 'terminate',
  SIGKILL: 'terminate',
  SIGPOLICY: 'escalate',
  SIGTRUST: 'escalate',
  SIGUSR1: 'none',
  SIGUSR2: 'none',
  SIGLOOP: 'none',
  SIGDRIFT: 'none',
};

/** Accepts a name (`SIGSTOP`, `stop`, `sigstop`) or a number (1..12, also as a numeric string). */
export function parseSignal(x: unknown): SignalName | null {
  if (typeof x === 'number') return BY_NUMBER.get(x) ?? null;
  if (typeof x !== 'string' || x.length === 0 || x.length > 16) return null;
  if (/^\d+$/.test(x)) return BY_NUMBER.get(Number(x)) ?? null;
  const upper = x.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in SIGNALS ? (name as SignalName) : null;
}

export function signalNumber(name: SignalName): number {
  return SIGNALS[name];
}
