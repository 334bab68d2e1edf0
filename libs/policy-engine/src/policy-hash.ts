import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { normalizePolicy } from './normalize-policy.js';
import type { PolicyDocument } from './policy-document.js';

/** SHA-256 (hex) of the RFC 8785 canonical JSON of the normalised document: the policy's identity. */
export function policyContentHash(d: PolicyDocument): string {
  return createHash('sha256')
    .update(canonicalize(normalizePolicy(d)) as string)
    .digest('hex');
}
