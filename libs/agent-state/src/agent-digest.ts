import { createHash } from 'node:crypto';
import { toCanonicalJson } from '#contracts';
import { toAgentSnapshot } from './agent-snapshot.js';
import type { AgentState } from './agent-state.js';

/**
 * SHA-256 of the canonical JSON of everything that makes up the agent's kernel state. Two
 * processes that folded the same events, with or without a snapshot, produce the same digest.
 */
export function agentDigest(state: AgentState): string {
  return createHash('sha256')
    .update(toCanonicalJson(toAgentSnapshot(state)))
    .digest('hex');
}
