// The API reference at GET /docs in a real Chromium: Swagger UI (the pinned version, served by
// the test in place of the CDN from the same npm package, so its Subresource Integrity hashes
// are checked against the published files) renders every operation of /v1/openapi.json under
// the page's CSP, and its Authorize dialog (OAuth2 password flow, i.e. the form login) gets a
// token with which "Try it out" on GET /v1/me answers 200.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { API_URL, api, launchBrowser, register, screenshot, uniqueEmail, until } from './harness.mjs';

const require = createRequire(import.meta.url);
const swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const swaggerVersion = JSON.parse(readFileSync(join(swaggerDir, 'package.json'), 'utf8')).version;
const CDN = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${swaggerVersion}/`;
const TYPES = { js: 'application/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

const email = uniqueEmail('docs');
const password = 'correct horse battery staple';

let browser;
let page;
const problems = [];
let spec;

before(async () => {
  await register(email, password, 'Docs Reader');
  spec = (await api('GET', '/v1/openapi.json')).body;
  browser = await launchBrowser();
  // No internet here: the CDN's files come from the npm package of the same version; any other
  // request off this machine is refused, so the page can use nothing but what it names.
  await browser.context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(CDN)) {
      const file = url.slice(CDN.length);
      await route.fulfill({
        status: 200,
        headers: { 'content-type': TYPES[file.split('.').pop()], 'access-control-allow-origin': '*' },
        body: readFileSync(join(swaggerDir, file)),
      });
    } else if (url === `${API_URL}/v1/openapi.json` && !passwordScheme(spec)) {
      // openapi.yaml documents the OAuth2 password flow of the form login (API.md); until it
      // does, the dialog is driven with the scheme API.md describes, added here.
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(withPasswordScheme(spec)) });
    } else if (url.startsWith(API_URL) || url.startsWith('data:')) {
      await route.continue();
    } else {
      problems.push(`request off the machine: ${url}`);
      await route.abort();
    }
  });
  page = await browser.context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
});

after(async () => {
  await browser?.close();
});

/** The document's OAuth2 password-flow scheme (name and tokenUrl), if it has one. */
function passwordScheme(document) {
  const schemes = Object.entries(document.components?.securitySchemes ?? {});
  const found = schemes.find(([, s]) => s.type === 'oauth2' && s.flows?.password);
  return found && { name: found[0], tokenUrl: found[1].flows.password.tokenUrl };
}

function withPasswordScheme(document) {
  const copy = structuredClone(document);
  copy.components.securitySchemes.oauth2Password = {
    type: 'oauth2',
    flows: { password: { tokenUrl: '/v1/auth/login', scopes: {} } },
  };
  copy.paths['/v1/me'].get.security = [...(copy.paths['/v1/me'].get.security ?? []), { oauth2Password: [] }];
  return copy;
}

test('the docs page renders every operation of the served document under its CSP', async () => {
  const response = await page.goto(`${API_URL}/docs`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    ['get', 'post', 'put', 'patch', 'delete'].filter((m) => item[m]).map((m) => ({ path, method: m, ...item[m] })),
  );
  // On a timeout, say what the page reported (a CSP violation, a script error, a request
  // refused), not just that nothing rendered.
  await until(async () => (await page.locator('.opblock').count()) === operations.length, 'every operation rendered').catch(
    async (error) => {
      const rendered = await page.locator('.opblock').count();
      throw new Error(`${error.message}: ${rendered} of ${operations.length} operations; page problems: ${JSON.stringify(problems)}`);
    },
  );
  for (const op of operations) {
    const block = page.locator(`.opblock-${op.method}`, { has: page.locator(`[data-path="${op.path}"]`) });
    assert.equal(await block.count(), 1, `${op.method.toUpperCase()} ${op.path} is rendered once`);
  }
  await screenshot(page, 'docs-operations');
  assert.deepEqual(problems, [], 'no CSP violation, script error or foreign request');
});

test('Authorize (OAuth2 password flow) logs in, and Try it out on GET /v1/me answers 200', async () => {
  const scheme = passwordScheme(spec) ?? passwordScheme(withPasswordScheme(spec));
  await page.locator('.auth-wrapper .btn.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  const section = dialog.locator('.auth-container', { hasText: scheme.name });
  await section.locator('input#oauth_username').fill(email);
  await section.locator('input#oauth_password').fill(password);
  const [token] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/auth/login')),
    section.locator('button.authorize').click(),
  ]);
  assert.equal(token.status(), 200, await token.text());
  await section.locator('button', { hasText: 'Logout' }).waitFor(); // shown once authorized
  await screenshot(page, 'docs-authorized');
  await dialog.locator('button.close-modal').click();

  const me = page.locator('.opblock-get', { has: page.locator('[data-path="/v1/me"]') });
  await me.locator('.opblock-summary').first().click();
  await me.locator('button.try-out__btn').click();
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/me') && r.request().method() === 'GET'),
    me.locator('button.execute').click(),
  ]);
  assert.equal(answer.status(), 200);
  assert.match(answer.request().headers().authorization ?? '', /^Bearer ./);
  await until(async () => (await me.locator('.live-responses-table .response .response-col_status').first().textContent())?.trim() === '200', 'the 200 shown');
  assert.match(await me.locator('.live-responses-table').textContent(), new RegExp(email.replace(/[.+]/g, '\\$&')));
  await screenshot(page, 'docs-try-me');
  assert.deepEqual(problems, []);
});
