/** The browser's part of {@link FrameBatch}: when a batch of frames is applied. */
import type { Scheduler } from '../room/frame-batch.ts';

/**
 * The next animation frame; in a hidden tab, where animation frames stop, a timer instead
 * (browsers run those about once a second there, which is all a hidden tab needs: the title's
 * unread count and mention notifications).
 */
export const nextFrame: Scheduler = (run) => {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    run();
  };
  const frame = requestAnimationFrame(once);
  const timer = setTimeout(once, 100);
  return () => {
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
};
