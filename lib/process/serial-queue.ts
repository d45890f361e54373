/**
 * Promise-chain queues: work handed to one runs one at a time, in the order it was
 * handed in, whether the work before it succeeded or failed. The engines use one for
 * their mutations, the controller one for engine membership changes and applies
 * (its engine lock), the process runtime one per replica.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything handed in so far has finished (the queue itself is not a promise: `await queue` would not wait). */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** One SerialQueue per key, forgotten once its last piece of work is done. */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.catch(() => undefined).then(fn);
    this.tails.set(key, result);
    const forget = () => {
      if (this.tails.get(key) === result) this.tails.delete(key);
    };
    result.then(forget, forget);
    return result;
  }
}
