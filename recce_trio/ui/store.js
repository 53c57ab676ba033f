// The page's state: one immutable object, replaced (never mutated) by `set`, and subscribers
// told which top-level keys changed. No framework: views subscribe to the keys they draw.

export function createStore(initial) {
  let state = Object.freeze({ ...initial });
  const subscribers = new Set();

  return {
    get: () => state,

    /** Merge `patch` (an object, or a function of the state returning one) into the state. */
    set(patch) {
      const changes = typeof patch === "function" ? patch(state) : patch;
      if (!changes) return;
      const changed = new Set();
      for (const [key, value] of Object.entries(changes)) {
        if (!(key in state)) throw new Error(`unknown state key ${key}`);
        if (state[key] !== value) changed.add(key);
      }
      if (!changed.size) return;
      const previous = state;
      state = Object.freeze({ ...state, ...changes });
      for (const sub of [...subscribers]) {
        if (!sub.keys || sub.keys.some((key) => changed.has(key))) sub.fn(state, previous, changed);
      }
    },

    /** Call `fn(state, previous, changedKeys)` after each change to one of `keys` (all if null). */
    subscribe(keys, fn) {
      const sub = { keys, fn };
      subscribers.add(sub);
      return () => subscribers.delete(sub);
    },
  };
}
