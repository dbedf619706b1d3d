// Shared pieces of the browser end-to-end tests: Debian's Chromium driven by playwright-core,
// the URLs of the stack under test, screenshots, and direct API calls for test setup.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/test-browser.sh sets it)`);
  return value.replace(/\/+$/, '');
}

/** The SPA's origin, e.g. http://localhost:5173. */
export const WEB_URL = required('TASKLINE_WEB_URL');
/** The API as the SPA calls it, e.g. http://localhost:9000 (same site as WEB_URL). */
export const API_URL = required('TASKLINE_API_URL');
/**
 * The local mail server's web inbox (maildev), whose REST API the recovery tests read:
 * scripts/test-browser.sh passes the one of the stack it starts; the `make dev` default otherwise.
 */
export const MAIL_URL = (process.env.TASKLINE_MAIL_URL ?? 'http://127.0.0.1:1080').replace(/\/+$/, '');
export const ARTIFACTS = resolve(process.env.TASKLINE_ARTIFACTS ?? 'artifacts/browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium with a fresh, throw-away profile: no cookies or storage from any earlier run. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'taskline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1000, height: 900 },
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

let shots = 0;
/** Saves a full-page screenshot as artifacts/browser/NN-name.png (git-ignored). */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  shots += 1;
  const path = join(ARTIFACTS, `${String(shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Polls `check` until it returns a truthy value; fails with `what` and the last value. */
export async function until(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- direct API calls (setup and cross-checks; the browser is what is under test) ------------

// Node resolves localhost to ::1 first; the local stack listens on IPv4.
const NODE_API_URL = API_URL.replace('//localhost:', '//127.0.0.1:');

export async function api(method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(`${NODE_API_URL}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

export async function register(email, password, name) {
  const r = await api('POST', '/v1/auth/register', { body: { email, password, name } });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Logs in from outside the browser (a separate session) and returns its access token. */
export async function login(email, password) {
  const r = await api('POST', '/v1/auth/login', { body: { email, password } });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

/** A page served from an origin the API does not allow (another port on localhost). */
export async function serveForeignOrigin() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Not the SPA</title><h1>A page from a foreign origin</h1><pre id="out"></pre>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://localhost:${port}/`,
    close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections(); // don't wait for the browser's keep-alive connections
      }),
  };
}

export function uniqueEmail(tag) {
  return `e2e-${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/**
 * The `step(name, fn)` of a file whose tests are the steps of one story, run in order: after a
 * failed step the later ones are skipped (they would fail for the same reason), and the page
 * the story was on is saved as `FAILED-<prefix><step>.png`. `currentPage` is asked at the
 * failure, since the page is opened in `before`.
 */
export function storySteps(prefix, currentPage) {
  let failed = false;
  return function step(name, fn) {
    test(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
      } catch (error) {
        failed = true;
        await screenshot(currentPage(), `FAILED-${prefix}${name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => {});
        throw error;
      }
    });
  };
}

// --- the local mail server (maildev's REST API: GET /email lists every mail it received) -------

/** The mails to `to` with subject `subject`, oldest first. */
export async function mailsTo(to, subject) {
  const response = await fetch(`${MAIL_URL}/email`);
  if (!response.ok) throw new Error(`maildev at ${MAIL_URL}: ${response.status}`);
  const all = await response.json();
  return all
    .filter((m) => m.subject === subject && (m.to ?? []).some((r) => r.address?.toLowerCase() === to.toLowerCase()))
    .sort((a, b) => new Date(a.date ?? 0) - new Date(b.date ?? 0));
}

/** Waits until `count` mails to `to` with `subject` have arrived; returns the newest. */
export async function waitForMail(to, subject, count = 1) {
  const found = await until(async () => {
    const mails = await mailsTo(to, subject);
    return mails.length >= count && mails;
  }, `mail ${count} "${subject}" to ${to} in ${MAIL_URL}`);
  return found.at(-1);
}

/** The link to the SPA's `path` in a mail's plain-text body (on a line of its own). */
export function linkIn(mail, path) {
  const match = (mail.text ?? '').match(new RegExp(`^\\s*(https?://\\S+${path}#token=[A-Za-z0-9_-]+)\\s*$`, 'm'));
  if (!match) throw new Error(`no ${path} link in the mail "${mail.subject}": ${mail.text}`);
  return match[1];
}
