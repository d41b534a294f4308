/**
 * Scrolling of the message log, like a chat app's: it follows new messages only while the reader
 * is at the bottom; older history put on top keeps the reader's place; scrolling near the top
 * asks for more.
 *
 * Content size changes are watched with a ResizeObserver rather than per message, so long
 * messages, failed-message buttons and a phone keyboard shrinking the view are all covered.
 */
import type { Attachment } from 'svelte/attachments';

/** Within this many pixels of the bottom counts as "at the bottom". */
const BOTTOM_SLACK_PX = 48;
/** Within this many pixels of the top, scrolling asks for older messages. */
const TOP_SLACK_PX = 120;

export class StickyScroll {
  /** Whether the reader sees the newest messages. */
  atBottom = $state(true);

  #viewport: HTMLElement | null = null;
  #contentHeight = 0;
  #keepPlace = false;
  readonly #onNearTop: () => void;

  /** @param onNearTop Called when the reader scrolls close to the top (load older messages). */
  constructor(onNearTop: () => void) {
    this.#onNearTop = onNearTop;
  }

  /** Attach to the scrolling element. */
  viewport: Attachment<HTMLElement> = (element) => {
    this.#viewport = element;
    let lastTop = element.scrollTop;
    const onScroll = () => {
      const up = element.scrollTop < lastTop;
      lastTop = element.scrollTop;
      // Only the reader scrolling up leaves the bottom. A scroll event can arrive after the
      // content grew past the position we scrolled to; measured then, it would look as if the
      // reader had scrolled away, and the log would stop following.
      if (this.#distanceFromBottom() <= BOTTOM_SLACK_PX) this.atBottom = true;
      else if (up) this.atBottom = false;
      // Only the reader scrolling up asks for more, not the log settling at the bottom.
      if (up && element.scrollTop < TOP_SLACK_PX) this.#onNearTop();
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    // The viewport itself shrinks when a phone keyboard opens: stay at the bottom if there.
    const observer = new ResizeObserver(() => this.#follow());
    observer.observe(element);
    return () => {
      element.removeEventListener('scroll', onScroll);
      observer.disconnect();
      this.#viewport = null;
    };
  };

  /** Attach to the element inside the viewport that holds all messages. */
  content: Attachment<HTMLElement> = (element) => {
    const observer = new ResizeObserver(() => {
      const height = element.offsetHeight;
      const grewBy = height - this.#contentHeight;
      this.#contentHeight = height;
      const viewport = this.#viewport;
      if (viewport === null) return;
      if (this.#keepPlace) {
        // Older messages went in above: move down by as much, so the same ones stay in view.
        this.#keepPlace = false;
        viewport.scrollTop += grewBy;
        this.#measure();
      } else {
        this.#follow();
      }
    });
    observer.observe(element);
    return () => observer.disconnect();
  };

  /** Call just before older messages are put on top (their arrival resizes the content). */
  keepPlace(): void {
    if (!this.atBottom) this.#keepPlace = true;
  }

  /** Scrolls to the newest messages. */
  toBottom(): void {
    const viewport = this.#viewport;
    if (viewport === null) return;
    viewport.scrollTop = viewport.scrollHeight;
    this.#measure();
  }

  /**
   * Scrolls an element of the log into view (e.g. the "new since your last visit" divider, or
   * the original of a reply, centred); the log stops following new messages unless it is still
   * at the bottom.
   */
  reveal(element: Element, block: ScrollLogicalPosition = 'start'): void {
    element.scrollIntoView({ block });
    this.#measure();
  }

  #follow(): void {
    if (this.atBottom) this.toBottom();
  }

  #measure(): void {
    if (this.#viewport !== null) this.atBottom = this.#distanceFromBottom() <= BOTTOM_SLACK_PX;
  }

  #distanceFromBottom(): number {
    const viewport = this.#viewport;
    return viewport === null ? 0 : viewport.scrollHeight - viewport.scrollTop - viewport.clientHeight;
  }
}
