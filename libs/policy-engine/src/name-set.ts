/** A set of names where `*` (or no list) means any: null stands for "any". */
export type NameSet = ReadonlySet<string> | null;

export function nameSet(list: readonly string[] | undefined): NameSet {
  if (!list || list.includes('*')) return null;
  return new Set(list);
}

export function inNameSet(set: NameSet, name: string): boolean {
  return set === null || set.has(name);
}
