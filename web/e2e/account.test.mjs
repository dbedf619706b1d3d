// The account screen: change the name, change the password, and the session list
// with "Log out" per device and "Log out everywhere else". A second browser (its own profile, so
// its own refresh cookie: another device) is logged out from the first: its next API call is
// refused and it lands on the login view.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { API_URL, WEB_URL, launchBrowser, register, screenshot, uniqueEmail, until } from './harness.mjs';

const email = uniqueEmail('account');
const password = 'correct horse battery staple';
const newPassword = 'a brand new passphrase';

let laptop;
let phone;

before(async () => {
  laptop = await launchBrowser();
  phone = await launchBrowser();
  await register(email, password, 'Account Tester');
});

after(async () => {
  await laptop?.close();
  await phone?.close();
});

const heading = (page, name) => page.getByRole('heading', { name, level: 1 });

async function logIn(page, withPassword = password) {
  await page.goto(WEB_URL);
  await heading(page, 'Log in').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(withPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Adds a task from the tasks screen; returns the status of the API's first answer. */
async function addTask(page, title) {
  const form = page.getByRole('form', { name: 'New task' });
  await form.getByLabel('Title').fill(title);
  const answered = page.waitForResponse((r) => r.url() === `${API_URL}/v1/tasks` && r.request().method() === 'POST');
  await form.getByRole('button', { name: 'Add task' }).click();
  return (await answered).status();
}

/** The phone's session has been ended elsewhere: its next call fails and it shows the login view. */
async function assertLoggedOutRemotely(page, what) {
  assert.equal(await addTask(page, `after ${what}`), 401, `the phone's access token is refused after ${what}`);
  await heading(page, 'Log in').waitFor();
  await page.getByText('Your session has ended').waitFor();
}

const rows = (page) => page.getByRole('list', { name: 'Sessions' }).getByRole('listitem');

async function openAccount(page) {
  await page.getByRole('button', { name: 'Account', exact: true }).click();
  await heading(page, 'Your account').waitFor();
}

test('the account screen renames, lists sessions, ends them, and changes the password', async () => {
  const a = await laptop.context.newPage();
  const b = await phone.context.newPage();
  await logIn(a);
  await heading(a, 'Your tasks').waitFor();
  await logIn(b);
  await heading(b, 'Your tasks').waitFor();

  // --- name
  await openAccount(a);
  const nameForm = a.getByRole('form', { name: 'Change name' });
  // The form is filled in once GET /v1/me has answered.
  await until(async () => (await nameForm.getByLabel('Name').inputValue()) === 'Account Tester', 'the current name filled in');
  await nameForm.getByLabel('Name').fill('  Renamed Tester  ');
  await nameForm.getByRole('button', { name: 'Save name' }).click();
  await a.getByText('Your name was saved.').waitFor();
  assert.equal(await nameForm.getByLabel('Name').inputValue(), 'Renamed Tester');
  await nameForm.getByLabel('Name').fill('');
  await nameForm.getByRole('button', { name: 'Save name' }).click();
  await until(async () => (await nameForm.getByRole('alert').textContent()).includes('Unprocessable'), 'the 422 shown');

  // --- the session list: both devices, this one marked
  await until(async () => (await rows(a).count()) === 2, 'two sessions listed');
  const current = rows(a).filter({ hasText: '(this device)' });
  assert.equal(await current.count(), 1);
  assert.match(await current.textContent(), /Chrome|Mozilla/, 'the user agent is shown');
  await screenshot(a, 'account-two-sessions');

  // --- log out the other device
  await rows(a).filter({ hasNotText: '(this device)' }).getByRole('button').click();
  await a.getByText('That device was logged out.').waitFor();
  await until(async () => (await rows(a).count()) === 1, 'one session left');
  await assertLoggedOutRemotely(b, 'its session was ended');

  // --- log out everywhere else
  await logIn(b);
  await heading(b, 'Your tasks').waitFor();
  await a.reload();
  await heading(a, 'Your tasks').waitFor();
  await openAccount(a);
  await until(async () => (await rows(a).count()) === 2, 'the phone listed again');
  await a.getByRole('button', { name: 'Log out everywhere else' }).click();
  await a.getByText('Every other device was logged out.').waitFor();
  await until(async () => (await rows(a).count()) === 1, 'only this device left');
  await assertLoggedOutRemotely(b, 'log out everywhere else');

  // --- change the password
  await logIn(b);
  await heading(b, 'Your tasks').waitFor();
  const passwordForm = a.getByRole('form', { name: 'Change password' });
  await passwordForm.getByLabel('Current password').fill('not the password');
  await passwordForm.getByLabel('New password').fill(newPassword);
  await passwordForm.getByRole('button', { name: 'Change password' }).click();
  await until(
    async () => (await passwordForm.getByRole('alert').textContent()).includes('current password is incorrect'),
    'the 403 shown',
  );
  await passwordForm.getByLabel('Current password').fill(password);
  await passwordForm.getByLabel('New password').fill(newPassword);
  await passwordForm.getByRole('button', { name: 'Change password' }).click();
  await a.getByText('Your password was changed.').waitFor();
  await until(async () => (await rows(a).count()) === 1, 'the other device logged out by the change');
  await screenshot(a, 'account-password-changed');
  await assertLoggedOutRemotely(b, 'the password change');

  // The old password no longer logs in; the new one does.
  await logIn(b);
  await until(async () => (await b.getByRole('alert').first().textContent()).includes('incorrect'), 'old password refused');
  await logIn(b, newPassword);
  await heading(b, 'Your tasks').waitFor();

  // This device continued: its access token works, and a reload refreshes with the rotated cookie.
  await a.getByRole('button', { name: 'Back to tasks' }).click();
  await heading(a, 'Your tasks').waitFor();
  assert.equal(await addTask(a, 'still signed in'), 201);
  const refreshed = a.waitForResponse((r) => r.url() === `${API_URL}/v1/auth/refresh`);
  await a.reload();
  assert.equal((await refreshed).status(), 200, 'the cookie set by the password change works');
  await heading(a, 'Your tasks').waitFor();

  // --- log out this device, from its own row
  await openAccount(a);
  await until(async () => (await rows(a).count()) === 2, 'both devices listed');
  await rows(a).filter({ hasText: '(this device)' }).getByRole('button', { name: 'Log out this device' }).click();
  await heading(a, 'Log in').waitFor();
  await a.reload();
  await heading(a, 'Log in').waitFor();
  // The phone is still signed in.
  assert.equal(await addTask(b, 'phone still works'), 201);
});
