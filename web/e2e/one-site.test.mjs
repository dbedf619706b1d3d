// The SPA as deployed with DeploySite (template.yaml): the SPA and the API behind ONE origin that
// routes like the CloudFront distribution (scripts/site-proxy.mjs: `/v1/*` and `/docs` to the
// API, the rest to web/dist built with VITE_API_URL=/, the distribution's security headers and
// SPA fallback). The stack allows exactly that origin. Shows: no cross-origin request at all
// (so no CORS), the strict CSP lets the SPA run, the SameSite=Strict refresh cookie of the
// site keeps the session over a reload, log out ends it.
//
// Run by scripts/test-browser.sh in its one-site phase (TASKLINE_ONE_SITE=1, TASKLINE_WEB_URL =
// TASKLINE_API_URL = the proxy); skipped in the cross-origin phase.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

const oneSite = process.env.TASKLINE_ONE_SITE === '1';

describe('one site: the SPA and the API on one origin, as deployed', { skip: !oneSite && 'cross-origin phase' }, () => {
  const REFRESH_COOKIE = '__Host-taskline_refresh';
  const password = 'correct horse battery staple';
  let h; // the harness, imported only in this phase (it requires the URLs of the stack)
  let email;
  let browser;
  let page;
  /** Every request the page sent, to any origin. */
  const sent = [];
  /** Content-Security-Policy violations reported by the page. */
  const violations = [];
  let failed = false;

  function step(name, fn) {
    test(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
      } catch (error) {
        failed = true;
        await h.screenshot(page, `FAILED-one-site-${name.replace(/\W+/g, '-').slice(0, 30)}`).catch(() => {});
        throw error;
      }
    });
  }

  const heading = (name) => page.getByRole('heading', { name, level: 1 });
  const refreshCookie = async () =>
    (await browser.context.cookies(h.WEB_URL)).find((c) => c.name === REFRESH_COOKIE);

  before(async () => {
    h = await import('./harness.mjs');
    assert.equal(h.API_URL, h.WEB_URL, 'one site: the API is addressed as the SPA\'s own origin');
    email = h.uniqueEmail('one-site');
    browser = await h.launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => {
      sent.push({ method: request.method(), url: request.url(), type: request.resourceType() });
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
  });

  after(async () => {
    await browser?.close();
  });

  step('the site serves the SPA with the security headers of the distribution', async () => {
    const response = await page.goto(h.WEB_URL);
    const headers = response.headers();
    assert.match(headers['content-security-policy'], /default-src 'none'/);
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.match(headers['content-security-policy'], /connect-src 'self'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    await heading('Log in').waitFor();
    assert.equal(await refreshCookie(), undefined);
    await h.screenshot(page, 'one-site-login');
  });

  step('an unknown SPA path gets the SPA; an unknown API path keeps the API\'s 404 problem+json', async () => {
    const deep = await fetch(`${h.WEB_URL.replace('//localhost:', '//127.0.0.1:')}/some/deep/link`);
    assert.equal(deep.status, 200);
    assert.match(deep.headers.get('content-type'), /^text\/html/);
    assert.match(await deep.text(), /<div id="app">/);

    const missing = await h.api('GET', '/v1/no-such-route');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type'), /^application\/problem\+json/);
    assert.equal(missing.body.status, 404);
    assert.equal(missing.headers.get('content-security-policy'), null, 'API answers are not the site\'s');
  });

  step('sign up, then log in: same-origin calls only, no preflight, the site\'s Strict cookie', async () => {
    await page.getByRole('button', { name: 'Sign up' }).click();
    await heading('Sign up').waitFor();
    const form = page.getByRole('form', { name: 'Sign up' });
    await form.getByLabel('Name').fill('Ada One-Site');
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Create account' }).click();
    await heading('Log in').waitFor();
    await page.getByText('Account created').waitFor();

    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('Your tasks').waitFor();
    await page.getByText(`Signed in as Ada One-Site (${email})`).waitFor();

    const cookie = await refreshCookie();
    assert.ok(cookie, 'the refresh cookie is stored for the site');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Strict');
    const apiCalls = sent.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
    assert.ok(apiCalls.some((r) => r.url === `${h.WEB_URL}/v1/auth/login`), 'login went to the site itself');
    await h.screenshot(page, 'one-site-signed-in');
  });

  step('reload keeps the session (the cookie is first-party)', async () => {
    const from = sent.length;
    await page.reload();
    await heading('Your tasks').waitFor();
    await page.getByText(`Signed in as Ada One-Site (${email})`).waitFor();
    const afterReload = sent.slice(from).filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
    assert.equal(afterReload[0]?.url, `${h.WEB_URL}/v1/auth/refresh`, 'the session came from the refresh cookie');
  });

  step('log out ends the session: the cookie is gone and a reload shows the login screen', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await heading('Log in').waitFor();
    assert.equal(await refreshCookie(), undefined, 'the refresh cookie is cleared');
    await page.reload();
    await heading('Log in').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Your tasks' }).count(), 0);
    await h.screenshot(page, 'one-site-logged-out');
  });

  // Same-origin requests are outside CORS altogether: nothing to preflight, no CORS header read.
  step('the whole session stayed on one origin, and the strict CSP blocked nothing', async () => {
    const origins = [...new Set(sent.map((r) => new URL(r.url).origin))];
    assert.deepEqual(origins, [h.WEB_URL], 'every request went to the site');
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
  });
});
