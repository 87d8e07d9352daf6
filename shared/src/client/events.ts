/** A tiny typed event emitter (no Node `events`): listeners that throw never break the emitter. */

/** Maps event names to payload types. */
export type EventMap = Record<string, unknown>;

/** Typed emitter; `on` returns the unsubscribe function. */
export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<(payload: never) => void>>();
  /** Subscribes to `type`; returns the unsubscribe function. */
  on<K extends keyof E>(type: K, listener: (payload: E[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }
  /** Resolves with the next payload of `type` that satisfies `pred`. */
  once<K extends keyof E>(type: K, pred: (payload: E[K]) => boolean = () => true): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (p) => {
        if (!pred(p)) return;
        off();
        resolve(p);
      });
    });
  }
  /** Delivers `payload` to every listener of `type`. */
  emit<K extends keyof E>(type: K, payload: E[K]): void {
    for (const l of [...(this.#listeners.get(type) ?? [])]) {
      try {
        (l as (p: E[K]) => void)(payload);
      } catch {
        // A throwing listener is the listener's bug; the client keeps going.
      }
    }
  }
}
