/**
 * A tiny client-side router over the History API: the current path as `$state`, the route
 * derived from it (`routes.ts` decides), and same-origin link clicks turned into `navigate()`.
 */
import { matchRoute, type Route } from './routes.ts';

class Router {
  #path = $state(window.location.pathname);
  readonly #match = $derived(matchRoute(this.#path));

  /** What the current path shows. */
  get route(): Route {
    return this.#match.route;
  }

  /** The current path, percent-encoded as in the address bar. */
  get path(): string {
    return this.#path;
  }

  /**
   * Shows another path without loading a page.
   *
   * @param to An absolute path, e.g. from `roomPagePath()`.
   * @param options `replace` rewrites the current history entry instead of adding one.
   */
  navigate(to: string, options: { replace?: boolean } = {}): void {
    const target = matchRoute(to).canonical ?? to;
    if (target === window.location.pathname && !options.replace) return;
    if (options.replace) window.history.replaceState(null, '', target);
    else window.history.pushState(null, '', target);
    this.#path = target;
  }

  /**
   * Starts following the address bar: canonicalizes the current path, listens to back/forward
   * and intercepts clicks on same-origin links.
   *
   * @returns A function that stops it.
   */
  start(): () => void {
    this.#sync();
    const onPopState = () => this.#sync();
    window.addEventListener('popstate', onPopState);
    document.addEventListener('click', this.#onClick);
    return () => {
      window.removeEventListener('popstate', onPopState);
      document.removeEventListener('click', this.#onClick);
    };
  }

  #sync(): void {
    const { pathname, search, hash } = window.location;
    const { canonical } = matchRoute(pathname);
    if (canonical !== undefined) window.history.replaceState(window.history.state, '', canonical + search + hash);
    this.#path = canonical ?? pathname;
  }

  // Plain left clicks on same-origin links navigate in place; anything a user might mean
  // differently (new tab, download, another window) is left to the browser.
  #onClick = (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = event.target instanceof Element ? event.target.closest('a') : null;
    if (anchor === null || anchor.hasAttribute('download') || (anchor.target !== '' && anchor.target !== '_self'))
      return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    if (url.pathname !== window.location.pathname) this.navigate(url.pathname);
  };
}

/** The app's one router. */
export const router = new Router();
