// @ts-check
/**
 * The one event emitter of the client: the connection, the manager and every player adapter
 * extend it.
 *
 * Listeners run in the order they were added, on a copy of the set, so a listener may remove
 * itself (or add another) while an event is delivered. A listener that throws is logged and
 * skipped: one broken panel or test hook must not break the connection, the room or the player
 * that emits.
 *
 * Public API:
 *   new Emitter()
 *   .on(event, fn) → off()     add a listener; the returned function removes it
 *   .emit(event, ...args)      call every listener of `event` with `args`
 *
 * @module core/emitter
 */

export class Emitter {
  constructor() {
    /** @type {Record<string, Set<Function>>} */
    this._handlers = {};
  }

  /** @param {string} event @param {Function} fn @returns {() => void} */
  on(event, fn) {
    (this._handlers[event] ||= new Set()).add(fn);
    return () => { this._handlers[event]?.delete(fn); };
  }

  /** @param {string} event @param {...any} args */
  emit(event, ...args) {
    for (const fn of [...(this._handlers[event] || [])]) {
      try {
        fn(...args);
      } catch (e) {
        // Surfaced for developers; the other listeners still run.
        console.error(`matinee: "${event}" listener failed`, e);
      }
    }
  }
}
