/**
 * The current time as reactive state, for "5 minutes ago": anything that reads `clock.now` in a
 * template or `$derived` is recomputed every half minute, and at once when the tab is shown
 * again (hidden tabs get their timers throttled). The timer runs only while something reads it.
 */
import { createSubscriber } from 'svelte/reactivity';

const TICK_MS = 30_000;

const subscribe = createSubscriber((update) => {
  const timer = setInterval(update, TICK_MS);
  document.addEventListener('visibilitychange', update);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', update);
  };
});

export const clock = {
  /** Milliseconds since the epoch, as of the last tick. */
  get now(): number {
    subscribe();
    return Date.now();
  },
};
