/**
 * Whether the page is hidden (another tab or app in front, or the window minimized), as
 * reactive state read straight from `document.visibilityState`. Window focus also counts as a
 * change, so that coming back by clicking the window is noticed even where a browser is late
 * with `visibilitychange`.
 */
import { createSubscriber } from 'svelte/reactivity';

const subscribe = createSubscriber((update) => {
  document.addEventListener('visibilitychange', update);
  window.addEventListener('focus', update);
  return () => {
    document.removeEventListener('visibilitychange', update);
    window.removeEventListener('focus', update);
  };
});

export const pageVisibility = {
  get hidden(): boolean {
    subscribe();
    return document.visibilityState === 'hidden';
  },
};
