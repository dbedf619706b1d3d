// Password reset, read from the real local mail server (maildev): "Forgot password?" on the login
// form asks for a link and answers the same whether or not the address has an account; the link
// opens the SPA's /reset-password page, which takes the token out of the address bar; the new
// password works and the old one does not, every session of the account has ended, a notice is
// mailed, and a second use of the same link shows the invalid-link message with a way to ask again.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  API_URL,
  WEB_URL,
  api,
  launchBrowser,
  linkIn,
  login,
  mailsTo,
  register,
  screenshot,
  storySteps,
  uniqueEmail,
  until,
  waitForMail,
} from './harness.mjs';

const SUBJECT = 'Reset your taskline password';
const NOTICE = 'Your taskline password was changed';
const email = uniqueEmail('reset');
const nobody = uniqueEmail('reset-nobody');
const password = 'correct horse battery staple';
const newPassword = 'a brand new passphrase';

let browser;
let page;
let link;
let otherSession;
/** The SPA's requests to the token endpoint, in order. */
const confirms = [];
const step = storySteps('reset-', () => page);

before(async () => {
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('request', (request) => {
    if (request.url() === `${API_URL}/v1/auth/password-reset/confirm`) confirms.push(request.postDataJSON());
  });
  await register(email, password, 'Rosa Reset');
});

after(async () => {
  await browser?.close();
});

const heading = (name) => page.getByRole('heading', { name, level: 1 });
const forgotForm = () => page.getByRole('form', { name: 'Forgot your password?' });
const resetForm = () => page.getByRole('form', { name: 'Choose a new password' });

async function logIn(withPassword) {
  await page.goto(WEB_URL);
  await heading('Log in').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(withPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Asks for a reset link for `address` on the "Forgot password?" form; returns the status. */
async function askForLink(address) {
  await forgotForm().getByLabel('Email').fill(address);
  const answered = page.waitForResponse((r) => r.url() === `${API_URL}/v1/auth/password-reset`);
  await forgotForm().getByRole('button', { name: 'Send the link' }).click();
  const status = (await answered).status();
  await page.getByText('If an account has this address, we sent a link').waitFor();
  return status;
}

async function openLink() {
  assert.ok(link.startsWith(`${WEB_URL}/reset-password#token=`), `the link points at the SPA (${WEB_URL}): ${link.split('#')[0]}`);
  await page.goto(link);
  await heading('Choose a new password').waitFor();
  assert.equal(await page.evaluate(() => location.hash), '', 'the token is removed from the address bar');
  assert.equal(new URL(page.url()).pathname, '/reset-password');
}

step('signed in, then logged out', async () => {
  await logIn(password);
  await heading('Your tasks').waitFor();
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await heading('Log in').waitFor();
  // Another device's session, which the reset must end.
  otherSession = await login(email, password);
});

step('"Forgot password?" sends a link, with the same answer for an address without an account', async () => {
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Forgot password?' }).click();
  await heading('Forgot your password?').waitFor();
  assert.equal(await forgotForm().getByLabel('Email').inputValue(), email, 'the address typed so far is kept');

  const unknown = await askForLink(nobody);
  const unknownText = await page.getByRole('status').textContent();
  const known = await askForLink(email);
  assert.equal(unknown, 202);
  assert.equal(known, 202);
  assert.equal(await page.getByRole('status').textContent(), unknownText, 'the same words for both');
  await screenshot(page, 'reset-asked');

  link = linkIn(await waitForMail(email, SUBJECT), '/reset-password');
  assert.deepEqual(await mailsTo(nobody, SUBJECT), [], 'nothing sent to an address without an account');
});

step('the link opens the reset page; mismatched and weak passwords are field errors', async () => {
  await openLink();
  const form = resetForm();
  await form.getByLabel('New password', { exact: true }).fill(newPassword);
  await form.getByLabel('Repeat the new password').fill(`${newPassword}!`);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await until(
    async () => (await form.getByLabel('Repeat the new password').getAttribute('aria-invalid')) === 'true',
    'the mismatch marked on the repeat field',
  );
  assert.equal(confirms.length, 0, 'a mismatch is caught before any request');

  await form.getByLabel('New password', { exact: true }).fill('short');
  await form.getByLabel('Repeat the new password').fill('short');
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await until(
    async () => (await form.getByLabel('New password', { exact: true }).getAttribute('aria-invalid')) === 'true',
    'the 422 shown next to the new password',
  );
  assert.equal(await form.getByLabel('Repeat the new password').getAttribute('aria-invalid'), null);
  await screenshot(page, 'reset-weak');
});

step('a new password: the old one fails, the new one works, other sessions ended, a notice mailed', async () => {
  const form = resetForm();
  await form.getByLabel('New password', { exact: true }).fill(newPassword);
  await form.getByLabel('Repeat the new password').fill(newPassword);
  const confirmed = page.waitForResponse((r) => r.url() === `${API_URL}/v1/auth/password-reset/confirm`);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  assert.equal((await confirmed).status(), 204);
  await heading('Log in').waitFor();
  await page.getByText('Your password was changed.').waitFor();
  assert.equal(new URL(page.url()).pathname, '/', 'back at the app');
  await screenshot(page, 'reset-done');

  assert.equal((await api('GET', '/v1/me', { token: otherSession })).status, 401, 'the other session has ended');
  await waitForMail(email, NOTICE);

  await logIn(password);
  await until(async () => (await page.getByRole('alert').first().textContent()).includes('incorrect'), 'the old password refused');
  await logIn(newPassword);
  await heading('Your tasks').waitFor();
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await heading('Log in').waitFor();
});

step('the same link again: invalid, with a way to ask for a new one', async () => {
  await openLink();
  const form = resetForm();
  await form.getByLabel('New password', { exact: true }).fill('yet another passphrase');
  await form.getByLabel('Repeat the new password').fill('yet another passphrase');
  const refused = page.waitForResponse((r) => r.url() === `${API_URL}/v1/auth/password-reset/confirm`);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  assert.equal((await refused).status(), 400);
  await page.getByText('The link is invalid or has expired.').waitFor();
  await screenshot(page, 'reset-invalid');
  await page.getByRole('button', { name: 'Ask for a new link' }).click();
  await heading('Forgot your password?').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');

  // The password is still the one set with the link.
  assert.equal((await api('POST', '/v1/auth/login', { body: { email, password: 'yet another passphrase' } })).status, 401);
  assert.ok(await login(email, newPassword));
});
