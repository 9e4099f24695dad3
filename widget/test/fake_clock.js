// A clock whose time moves only when the test says so, with the timers it owns.
'use strict';

module.exports = function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  let nextId = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(id) { timers.delete(id); },
    pending: () => timers.size,
    /** Moves time forward, running each timer that falls due, in order, at its own time. */
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let first = null;
        for (const [id, t] of timers) if (t.due <= end && (!first || t.due < first[1].due)) first = [id, t];
        if (!first) break;
        timers.delete(first[0]);
        now = first[1].due;
        first[1].fn();
      }
      now = end;
    }
  };
};
