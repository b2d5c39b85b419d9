// Named registries of small typed functions (policy losses, loss aggregations, advantage estimators, reward
// combinations, quality-scorer and length-predictor factories), shaped like libs/kernels/src/registry.ts:
// registering a name twice throws; asking for an unknown name fails listing the valid ones. Not a plugin
// system: no lazy loading, no priorities.

export interface Registry<T> {
  register(name: string, item: T): void;
  get(name: string): T;
  has(name: string): boolean;
  /** in registration order */
  names(): string[];
}

/** `what` names the kind of item in errors ("policy loss", "reward combination"). */
export function createRegistry<T>(what: string): Registry<T> {
  const items = new Map<string, T>();
  return {
    register(name, item) {
      if (items.has(name)) throw new Error(`${what} ${JSON.stringify(name)} is already registered`);
      items.set(name, item);
    },
    get(name) {
      const item = items.get(name);
      if (item === undefined) throw new Error(`unknown ${what} ${JSON.stringify(name)} (valid: ${[...items.keys()].join(', ') || 'none'})`);
      return item;
    },
    has: (name) => items.has(name),
    names: () => [...items.keys()],
  };
}
