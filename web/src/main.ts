// Entry point: picks the screen. On load the session is restored from the refresh cookie (the
// access token is never persisted), so a reload keeps the user signed in. The two paths of the
// emailed links (/reset-password, /verify-email) open their own pages instead.

import { AccountView } from './account-view';
import { ApiClient, ApiError } from './api';
import { loginScreen, signupScreen, type AuthCallbacks } from './auth-views';
import { h } from './dom';
import { describe } from './forms';
import { takeEmailLink, type EmailLink } from './links';
import { forgotPasswordScreen, resetPasswordScreen, verifyEmailScreen } from './recovery-views';
import { TabCoordinator } from './tabs';
import { TasksView } from './tasks-view';
import './style.css';

/**
 * The API's base URL, fixed at build time (VITE_API_URL): `/` for one site (the deployed
 * distribution, scripts/site-proxy.mjs), an origin for a cross-origin API; the local stack by default.
 */
const API_URL: string = import.meta.env.VITE_API_URL || 'http://localhost:9000';

// First of all: an emailed link's token leaves the address bar (and the history entry).
const link = takeEmailLink(window.location, window.history);

const root = document.getElementById('app')!;
// Tabs of this browser share refreshes: restoring several at once spends the cookie once.
const api = new ApiClient(API_URL, undefined, TabCoordinator.forBrowser());

/** Shows a screen; `path` is its address (the app's screens are all at `/`). */
function show(screen: HTMLElement, title: string, path = '/'): void {
  if (window.location.pathname !== path) window.history.replaceState(null, '', path);
  root.replaceChildren(screen);
  document.title = `${title} · taskline`;
  root.setAttribute('aria-busy', 'false');
  // Move focus to the new screen's heading so keyboard and screen-reader users follow along.
  screen.querySelector<HTMLElement>('h1')?.focus();
}

const go: AuthCallbacks = {
  showLogin: (notice = '', email = '') => show(loginScreen(api, go, notice, email), 'Log in'),
  showSignup: () => show(signupScreen(api, go), 'Sign up'),
  showForgot: (email = '') => show(forgotPasswordScreen(api, go, email), 'Forgot your password?'),
  signedIn: () => void showTasks(),
  showApp: () => void start(null),
};

async function showTasks(): Promise<void> {
  const view = new TasksView(api, {
    loggedOut: (notice) => go.showLogin(notice),
    showAccount: () => void showAccount(),
  });
  show(view.element, 'Your tasks');
  await view.load();
}

async function showAccount(): Promise<void> {
  const view = new AccountView(api, {
    showTasks: () => void showTasks(),
    loggedOut: (notice) => go.showLogin(notice),
  });
  show(view.element, 'Your account');
  await view.load();
}

api.onSessionLost = () => go.showLogin('Your session has ended. Please log in again.');

async function start(opened: EmailLink | null): Promise<void> {
  // The pages of the emailed links need no session (the token is the proof) and start none.
  if (opened?.route === 'reset-password') {
    show(resetPasswordScreen(api, go, opened.token), 'Choose a new password', '/reset-password');
    return;
  }
  if (opened?.route === 'verify-email') {
    show(verifyEmailScreen(api, go, opened.token), 'Verify your email', '/verify-email');
    return;
  }
  root.setAttribute('aria-busy', 'true');
  root.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
  try {
    if (await api.refresh()) await showTasks();
    else go.showLogin();
  } catch (error) {
    go.showLogin(error instanceof ApiError ? describe(error) : String(error));
  }
}

void start(link);
// A link opened in a tab already at its path changes only the fragment: no new page load.
window.addEventListener('hashchange', () => {
  const opened = takeEmailLink(window.location, window.history);
  if (opened) void start(opened);
});
