// Entry point: picks the screen. On load the session is restored from the refresh cookie (the
// access token is never persisted), so a reload keeps the user signed in.

import { AccountView } from './account-view';
import { ApiClient, ApiError } from './api';
import { loginScreen, signupScreen, type AuthCallbacks } from './auth-views';
import { h } from './dom';
import { describe } from './forms';
import { TabCoordinator } from './tabs';
import { TasksView } from './tasks-view';
import './style.css';

/**
 * The API's base URL, fixed at build time (VITE_API_URL): `/` for one site (the deployed
 * distribution, scripts/site-proxy.mjs), an origin for a cross-origin API; the local stack by default.
 */
const API_URL: string = import.meta.env.VITE_API_URL || 'http://localhost:9000';

const root = document.getElementById('app')!;
// Tabs of this browser share refreshes: restoring several at once spends the cookie once.
const api = new ApiClient(API_URL, undefined, TabCoordinator.forBrowser());

function show(screen: HTMLElement, title: string): void {
  root.replaceChildren(screen);
  document.title = `${title} · taskline`;
  root.setAttribute('aria-busy', 'false');
  // Move focus to the new screen's heading so keyboard and screen-reader users follow along.
  screen.querySelector<HTMLElement>('h1')?.focus();
}

const go: AuthCallbacks = {
  showLogin: (notice = '', email = '') => show(loginScreen(api, go, notice, email), 'Log in'),
  showSignup: () => show(signupScreen(api, go), 'Sign up'),
  signedIn: () => void showTasks(),
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

async function start(): Promise<void> {
  root.setAttribute('aria-busy', 'true');
  root.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
  try {
    if (await api.refresh()) await showTasks();
    else go.showLogin();
  } catch (error) {
    go.showLogin(error instanceof ApiError ? describe(error) : String(error));
  }
}

void start();
