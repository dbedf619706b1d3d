// Email verification, read from the real local mail server (maildev): signing up sends a link;
// while the address is unverified the signed-in screens show a "Verify your email" banner whose
// "Send again" sends a new link (which replaces the first); the link opens the SPA's
// /verify-email page, which takes the token out of the address bar, verifies, and the account
// page then shows the "Verified" badge. A link works once.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { API_URL, WEB_URL, launchBrowser, linkIn, mailsTo, screenshot, storySteps, uniqueEmail, until, waitForMail } from './harness.mjs';

const SUBJECT = 'Verify your email for taskline';
const email = uniqueEmail('verify');
const password = 'correct horse battery staple';

let browser;
let page;
let firstLink;
let secondLink;
const step = storySteps('verify-', () => page);

before(async () => {
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
});

const heading = (name) => page.getByRole('heading', { name, level: 1 });
const banner = () => page.getByRole('region', { name: 'Verify your email' });

/** Opens an emailed link as the user would (a new navigation), and checks the token left the URL. */
async function openLink(link) {
  assert.ok(link.startsWith(`${WEB_URL}/verify-email#token=`), `the link points at the SPA (${WEB_URL}): ${link.split('#')[0]}`);
  await page.goto(link);
  await heading('Verify your email').waitFor();
  assert.equal(await page.evaluate(() => location.hash), '', 'the token is removed from the address bar');
  assert.equal(new URL(page.url()).pathname, '/verify-email');
}

step('sign up: the verification mail arrives, and the signed-in screen shows the banner', async () => {
  await page.goto(WEB_URL);
  await heading('Log in').waitFor();
  await page.getByRole('button', { name: 'Sign up' }).click();
  const form = page.getByRole('form', { name: 'Sign up' });
  await form.getByLabel('Name').fill('Vera Verify');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Create account' }).click();
  await heading('Log in').waitFor();
  firstLink = linkIn(await waitForMail(email, SUBJECT), '/verify-email');

  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await heading('Your tasks').waitFor();
  await banner().waitFor();
  assert.match(await banner().textContent(), new RegExp(email.replace(/[.+]/g, '\\$&')), 'the banner names the address');
  await screenshot(page, 'verify-banner');
});

step('"Send again" sends a new link', async () => {
  const sent = page.waitForResponse((r) => r.url() === `${API_URL}/v1/me/verification-email`);
  await banner().getByRole('button', { name: 'Send again' }).click();
  assert.equal((await sent).status(), 202);
  await until(async () => (await banner().getByRole('status').textContent()).includes('Sent'), '"Sent" shown');
  secondLink = linkIn(await waitForMail(email, SUBJECT, 2), '/verify-email');
  assert.notEqual(secondLink, firstLink, 'a new token');
});

step('the first link was replaced by the second: it is invalid', async () => {
  await openLink(firstLink);
  await page.getByText('The link is invalid or has expired.').waitFor();
});

step('the current link verifies the address; the banner goes, the account page shows "Verified"', async () => {
  // Another tab, signed in (the same cookie) and showing the banner while the link is opened.
  const otherTab = await browser.context.newPage();
  await otherTab.goto(WEB_URL);
  const otherBanner = otherTab.getByRole('region', { name: 'Verify your email' });
  await otherBanner.waitFor();

  const verified = page.waitForResponse((r) => r.url() === `${API_URL}/v1/auth/verify-email`);
  await openLink(secondLink);
  assert.equal((await verified).status(), 204);
  await page.getByText('Your email address is verified.').waitFor();
  await screenshot(page, 'verify-done');

  // "Send again" in the other tab: verified already (409), so the banner goes and nothing is sent.
  const refused = otherTab.waitForResponse((r) => r.url() === `${API_URL}/v1/me/verification-email`);
  await otherBanner.getByRole('button', { name: 'Send again' }).click();
  assert.equal((await refused).status(), 409);
  await otherBanner.waitFor({ state: 'hidden' });
  await otherTab.close();

  // Back to the app: the session in this browser is restored from its cookie, at `/`.
  await page.getByRole('button', { name: 'Continue to taskline' }).click();
  await heading('Your tasks').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByText(`Signed in as Vera Verify (${email})`).waitFor();
  assert.equal(await banner().isVisible(), false, 'no banner once verified');
  await page.getByRole('button', { name: 'Account', exact: true }).click();
  await heading('Your account').waitFor();
  const emailSection = page.getByRole('region', { name: 'Email', exact: true });
  await emailSection.getByText('Verified', { exact: true }).waitFor();
  assert.equal(await banner().isVisible(), false);
  await screenshot(page, 'verify-badge');
});

step('a link works once', async () => {
  await openLink(secondLink);
  await page.getByText('The link is invalid or has expired.').waitFor();
  assert.equal((await mailsTo(email, SUBJECT)).length, 2, 'no verification mail beyond the two asked for');
});
