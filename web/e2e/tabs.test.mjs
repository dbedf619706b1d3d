// Two tabs of one browser restored together: both need a refresh at once. They
// coordinate (Web Locks + BroadcastChannel, src/tabs.ts): the refresh cookie is spent once,
// both end signed in and working, a tab opened later takes their token too, and the session
// survives (a later reload of a tab alone refreshes again).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { API_URL, WEB_URL, launchBrowser, register, screenshot, uniqueEmail } from './harness.mjs';

const email = uniqueEmail('tabs');
const password = 'correct horse battery staple';

let browser;
/** API requests of the whole context (every tab), with the page that sent them. */
const sent = [];

before(async () => {
  browser = await launchBrowser();
  browser.context.on('request', (request) => {
    if (request.url().startsWith(API_URL)) {
      sent.push({ method: request.method(), path: request.url().slice(API_URL.length), page: request.frame()?.page() });
    }
  });
  await register(email, password, 'Tab Tester');
});

after(async () => {
  await browser?.close();
});

const refreshes = () => sent.filter((r) => r.method === 'POST' && r.path === '/v1/auth/refresh');
const yourTasks = (page) => page.getByRole('heading', { name: 'Your tasks', level: 1 });

test('two tabs restored together refresh once and both stay signed in', async () => {
  // Sign in once; the browser now holds the refresh cookie. Then "close" that tab.
  const first = await browser.context.newPage();
  await first.goto(WEB_URL);
  await first.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
  await first.getByLabel('Email').fill(email);
  await first.getByLabel('Password').fill(password);
  await first.getByRole('button', { name: 'Log in' }).click();
  await yourTasks(first).waitFor();
  await first.close();
  sent.length = 0;

  // Restore two tabs at once: each starts without an access token and needs the cookie.
  const tabs = [await browser.context.newPage(), await browser.context.newPage()];
  const tasksLoaded = tabs.map((tab) =>
    tab.waitForResponse((r) => r.url().startsWith(`${API_URL}/v1/tasks`) && r.request().method() === 'GET'),
  );
  await Promise.all(tabs.map((tab) => tab.goto(WEB_URL)));
  await Promise.all(tabs.map((tab) => yourTasks(tab).waitFor()));
  for (const [i, loaded] of tasksLoaded.entries()) {
    assert.equal((await loaded).status(), 200, `tab ${i + 1} lists its tasks`);
  }
  await screenshot(tabs[1], 'second-tab-signed-in');
  assert.equal(refreshes().length, 1, 'the tabs spent the refresh cookie once between them');

  // A tab opened after the others refreshed missed their announcement: it asks them for the
  // token instead of spending the cookie again.
  const late = await browser.context.newPage();
  await late.goto(WEB_URL);
  await yourTasks(late).waitFor();
  assert.equal(refreshes().length, 1, 'a tab opened later took the token of the others');
  await late.close();

  // Both tabs work: each writes a task with its access token.
  for (const [i, tab] of tabs.entries()) {
    const form = tab.getByRole('form', { name: 'New task' });
    await form.getByLabel('Title').fill(`from tab ${i + 1}`);
    const created = tab.waitForResponse((r) => r.url() === `${API_URL}/v1/tasks` && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Add task' }).click();
    assert.equal((await created).status(), 201, `tab ${i + 1} creates a task`);
  }

  // The session is intact: alone (no other tab to hand it a token), a reload (no token in
  // memory any more) refreshes again, successfully.
  await tabs[1].close();
  const refreshed = tabs[0].waitForResponse((r) => r.url() === `${API_URL}/v1/auth/refresh`);
  await tabs[0].reload();
  assert.equal((await refreshed).status(), 200, 'the refresh cookie still works');
  await yourTasks(tabs[0]).waitFor();
});
