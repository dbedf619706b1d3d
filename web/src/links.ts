// The emailed links: `/reset-password#token=…` and `/verify-email#token=…`. The token travels in
// the fragment, which browsers never send to a server (no access log, no `Referer`); the SPA
// takes it out of the address bar before doing anything else, so it is not kept in the history,
// shown on screen, bookmarked or copied along with the URL.

/** The screens an emailed link opens (by path); anything else is the app itself. */
export type LinkRoute = 'reset-password' | 'verify-email';

export interface EmailLink {
  route: LinkRoute;
  /** The token from the fragment, or null when the link had none (a reload, a cut-off link). */
  token: string | null;
}

const ROUTES: readonly LinkRoute[] = ['reset-password', 'verify-email'];

/**
 * Reads an emailed link from the current URL and removes its fragment from the address bar
 * (`history.replaceState`: no new history entry). Null when the path is not one of the links;
 * then the URL is left alone.
 */
export function takeEmailLink(
  location: Pick<Location, 'pathname' | 'search' | 'hash'>,
  history: Pick<History, 'replaceState'>,
): EmailLink | null {
  const route = ROUTES.find((r) => location.pathname.replace(/\/+$/, '') === `/${r}`);
  if (!route) return null;
  const hash = location.hash.replace(/^#/, '');
  const token = hash ? new URLSearchParams(hash).get('token') : null;
  if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
  return { route, token: token || null };
}
