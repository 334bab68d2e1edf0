import type { NameSet } from './name-set.js';

/** Items (rules, checks, limits) pre-sorted per action name, so a decision looks at only those that can apply. */
export interface ActionIndex<T> {
  /** Items that can apply to each action some item names, in order. */
  byAction: ReadonlyMap<string, readonly T[]>;
  /** Items that apply to any action, in order: what every other action gets. */
  anyAction: readonly T[];
}

export function indexByAction<T>(
  items: readonly T[],
  actionsOf: (item: T) => NameSet,
  order?: (a: T, b: T) => number,
): ActionIndex<T> {
  const sorted = order ? [...items].sort(order) : [...items];
  const named = new Set<string>();
  for (const item of sorted) actionsOf(item)?.forEach((a) => named.add(a));
  const byAction = new Map<string, readonly T[]>();
  for (const action of named) {
    byAction.set(
      action,
      sorted.filter((item) => {
        const actions = actionsOf(item);
        return actions === null || actions.has(action);
      }),
    );
  }
  return { byAction, anyAction: sorted.filter((item) => actionsOf(item) === null) };
}

export function itemsFor<T>(index: ActionIndex<T>, action: string): readonly T[] {
  return index.byAction.get(action) ?? index.anyAction;
}
