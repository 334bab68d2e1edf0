/** What a policy document may cost to read: anything bigger is refused before it is looked at. */
export const POLICY_LIMITS = {
  maxBytes: 256 * 1024,
  maxDepth: 32,
  /** yaml's maxAliasCount: how much alias expansion a document may ask for (alias bombs). */
  maxAliases: 100,
  maxRules: 1000,
  maxPatternLength: 512,
  /** Problems reported at most, so that a broken 1000-rule document gives a readable answer. */
  maxErrors: 100,
} as const;
