/**
 * Runs `run` once at the next animation frame; in a hidden tab, where animation frames stop, after
 * a timer instead (browsers run those about once a second there, which is all a hidden tab needs:
 * the title's unread count and mention notifications). The browser's `Scheduler` for the room's
 * `FrameBatch` (room/frame-batch.ts): when a batch of frames is applied.
 *
 * @returns A function that cancels it.
 */
export function nextFrame(run: () => void): () => void {
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
}
