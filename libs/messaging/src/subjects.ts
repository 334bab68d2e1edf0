/**
 * Handlers are declared with the protocol's subjects (`agentos.v1....`). A deployment may use
 * another first token (AGENTOS_SUBJECT_PREFIX) so that several installations or test runs share
 * one NATS without seeing each other; this maps a declared subject onto the deployment's.
 */
export function withSubjectPrefix(subject: string, prefix: string): string {
  if (prefix === 'agentos' || !subject.startsWith('agentos.')) return subject;
  return `${prefix}.${subject.slice('agentos.'.length)}`;
}
