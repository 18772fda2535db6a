/**
 * A small history-API router (the registry answers every client-side path with index.html),
 * with what a page change needs: a guard that asks before unsaved work is left, focus moved to
 * the new page's heading and the change announced to screen readers.
 */
import { createElement, useEffect, useState } from 'react';
import type { AnchorHTMLAttributes, MouseEvent, ReactNode } from 'react';

const listeners = new Set<() => void>();

function currentPath(): string {
  return window.location.pathname + window.location.search;
}

function notify(): void {
  for (const l of listeners) l();
}

// ------------------------------------------------------------ the unsaved-changes guard

/** A page with unsaved work: asked before the app leaves it. */
interface Blocker {
  /** True while there is something to lose. */
  active: () => boolean;
}

const blockers = new Set<Blocker>();
/** The navigation waiting for the user's answer (shown by `LeaveGuard`). */
let pendingLeave: { to: string; replace: boolean } | undefined;
const pendingListeners = new Set<() => void>();

function blocked(): boolean {
  for (const b of blockers) if (b.active()) return true;
  return false;
}

function setPending(p: typeof pendingLeave): void {
  pendingLeave = p;
  for (const l of pendingListeners) l();
}

window.addEventListener('beforeunload', (e) => {
  if (!blocked()) return;
  e.preventDefault();
  e.returnValue = '';
});

let shownPath = currentPath();
window.addEventListener('popstate', () => {
  const next = currentPath();
  if (blocked() && next !== shownPath) {
    // Back or forward with unsaved work: stay (put the shown page back) and ask.
    window.history.pushState(null, '', shownPath);
    setPending({ to: next, replace: false });
    return;
  }
  shownPath = next;
  focusOnNextHeading = true;
  notify();
});

/** Ask before leaving while `dirty` (in-app links, the namespace switch, back, reload and closing the tab). */
export function useLeaveGuard(dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    const b: Blocker = { active: () => true };
    blockers.add(b);
    return () => {
      blockers.delete(b);
    };
  }, [dirty]);
}

/** The navigation waiting for an answer (undefined: none), re-rendering when it changes. */
export function usePendingLeave(): { to: string } | undefined {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    pendingListeners.add(l);
    return () => {
      pendingListeners.delete(l);
    };
  }, []);
  return pendingLeave;
}

/** Answer the pending question: leave (the unsaved work is dropped) or stay. */
export function answerLeave(leave: boolean): void {
  const p = pendingLeave;
  setPending(undefined);
  if (leave && p) go(p.to, p.replace);
}

// ------------------------------------------------------------ navigation

/** Set by navigation: the next page heading to mount takes the focus (not on the first load). */
let focusOnNextHeading = false;

function go(to: string, replace: boolean): void {
  if (to === currentPath()) return;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  shownPath = to;
  focusOnNextHeading = true;
  notify();
  window.scrollTo(0, 0);
}

/**
 * Go to a path of the app (pushes a history entry unless `replace`). With unsaved work on the
 * page the user is asked first (unless `force`).
 */
export function navigate(to: string, opts: { replace?: boolean; force?: boolean } = {}): void {
  if (to === currentPath()) return;
  if (!opts.force && blocked()) {
    setPending({ to, replace: opts.replace ?? false });
    return;
  }
  go(to, opts.replace ?? false);
}

/** Whether the heading now mounting should take the focus (once per navigation). */
export function takeHeadingFocus(): boolean {
  const f = focusOnNextHeading;
  focusOnNextHeading = false;
  return f;
}

/** The current location, re-rendering on navigation. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const l = () => setPath(currentPath());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  const [pathname, query = ''] = path.split('?');
  return { pathname: pathname ?? '/', search: new URLSearchParams(query) };
}

/** Match `pattern` (`/ns/:ns/services/:group/:name`) against a path; answers the decoded parameters. */
export function match(pattern: string, pathname: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = pathname.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i] as string;
    const got = s[i] as string;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) return null;
  }
  return params;
}

/** A link that navigates inside the app (a plain link for modified clicks). */
export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return createElement('a', { href: to, ...rest, onClick }, children);
}

/** Encode path segments. */
export function path(...segments: string[]): string {
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}
