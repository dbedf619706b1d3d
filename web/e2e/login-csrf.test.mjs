// Login CSRF (session swap): a page on another site auto-submits a top-level form with the
// attacker's credentials to the API's /v1/auth/login. A form POST is a CORS "simple" request
// and a cookie set by a top-level navigation is kept despite SameSite=Strict, so unless login
// refuses foreign origins the victim's browser would store the attacker's refresh cookie and
// the victim's SPA would silently refresh into the attacker's account.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { API_URL, WEB_URL, launchBrowser, register, screenshot, uniqueEmail, until } from './harness.mjs';

const REFRESH_COOKIE = '__Host-taskline_refresh';
const attacker = { email: uniqueEmail('attacker'), password: 'attacker password 123' };

let browser;
let evil;

/** The attacker's page, on 127.0.0.1 (another site than the SPA's and API's localhost). */
async function serveAttackerPage() {
  const html = `<!doctype html><title>Win a prize</title>
<form id="f" method="POST" action="${API_URL}/v1/auth/login">
  <input name="username" value="${attacker.email}">
  <input name="password" value="${attacker.password}">
</form>
<script>document.getElementById('f').submit();</script>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  const port = Number(process.env.TASKLINE_FOREIGN_PORT ?? 0);
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  };
}

before(async () => {
  await register(attacker.email, attacker.password, 'Attacker');
  browser = await launchBrowser();
  evil = await serveAttackerPage();
});

after(async () => {
  await evil?.close();
  await browser?.close();
});

test('a foreign page cannot log the browser into the attacker account', async () => {
  const page = await browser.context.newPage();
  const login = page.waitForResponse((r) => r.url() === `${API_URL}/v1/auth/login`);
  await page.goto(evil.url);
  const response = await login;
  assert.equal(response.status(), 403, 'login refuses the cross-site form');
  assert.equal(response.headers()['set-cookie'], undefined, 'and sets no cookie');
  const sent = await response.request().allHeaders();
  assert.equal(sent.origin, evil.url.replace(/\/$/, ''), 'Chromium sent the foreign Origin');
  await screenshot(page, 'login-csrf-refused');
  const cookies = await browser.context.cookies(API_URL);
  assert.equal(
    cookies.find((c) => c.name === REFRESH_COOKIE),
    undefined,
    'the browser holds no refresh cookie from that response',
  );

  // The victim opens the SPA: no session is adopted, it asks the victim to log in.
  const spa = await browser.context.newPage();
  const answers = [];
  spa.on('response', (r) => {
    if (r.url().startsWith(API_URL)) answers.push(`${r.request().method()} ${r.url().slice(API_URL.length)} ${r.status()}`);
  });
  await spa.goto(WEB_URL);
  await spa.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
  await until(() => answers.some((a) => a.startsWith('POST /v1/auth/refresh')), 'the SPA tries to restore a session', 10_000).catch(() => {});
  await screenshot(spa, 'login-csrf-victim-spa');
  assert.ok(
    !answers.some((a) => a === 'POST /v1/auth/refresh 200' || a === 'GET /v1/me 200'),
    `the SPA is not logged in: ${JSON.stringify(answers)}`,
  );
  assert.ok(!(await spa.content()).includes(attacker.email), 'the attacker account is not shown');
});
