// Recovery by email: "Forgot password?" (asks for a reset link), the pages the emailed links open
// (/reset-password and /verify-email, token in the fragment: see links.ts), and, while the
// address is unverified, a banner offering to send the verification link again.

import { ApiError, isInvalidToken, type ApiClient, type User } from './api';
import { submit, type AuthCallbacks } from './auth-views';
import { h } from './dom';
import { control, describe, field, formAlert, showError } from './forms';

/** Shown whatever the API knows about the address: the answer must not tell who has an account. */
export const RESET_SENT =
  'If an account has this address, we sent a link to it to choose a new password. The link works once, for 30 minutes.';
export const INVALID_LINK = 'The link is invalid or has expired.';

export function forgotPasswordScreen(api: ApiClient, go: AuthCallbacks, email = ''): HTMLElement {
  const sent = h('p', { class: 'notice', role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'forgot-heading', novalidate: true },
    h('p', { class: 'hint' }, 'Enter the email address of your account and we will send you a link to choose a new password.'),
    field({ name: 'email', label: 'Email', type: 'email', value: email, required: true, autocomplete: 'username' }),
    formAlert(),
    h('button', { type: 'submit' }, 'Send the link'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sent.textContent = '';
    // Errors (a malformed address, 429 with its wait, mail down) go to the form; any answer
    // the API accepted gets the same neutral sentence.
    void submit(form, async () => {
      await api.requestPasswordReset(control(form, 'email').value);
      sent.textContent = RESET_SENT;
    });
  });
  return h(
    'main',
    { class: 'auth' },
    h('h1', { id: 'forgot-heading', tabindex: -1 }, 'Forgot your password?'),
    form,
    sent,
    h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => go.showLogin('', control(form, 'email').value) }, 'Back to log in')),
  );
}

/** The page of the emailed reset link; `token` is null when the URL carried none. */
export function resetPasswordScreen(api: ApiClient, go: AuthCallbacks, token: string | null): HTMLElement {
  const screen = h('main', { class: 'auth' }, h('h1', { id: 'reset-heading', tabindex: -1 }, 'Choose a new password'));
  const invalid = () =>
    screen.replaceChildren(
      screen.querySelector('h1')!,
      h('p', { class: 'form-error', role: 'alert' }, `${INVALID_LINK} Ask for a new one.`),
      h('p', {}, h('button', { type: 'button', onclick: () => go.showForgot() }, 'Ask for a new link')),
      h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => go.showLogin() }, 'Back to log in')),
    );
  if (token === null) {
    invalid();
    return screen;
  }
  const form = h(
    'form',
    { 'aria-labelledby': 'reset-heading', novalidate: true },
    field({
      name: 'new_password',
      label: 'New password',
      type: 'password',
      required: true,
      autocomplete: 'new-password',
      hint: '8 to 128 characters. Every device logged in to your account will be logged out.',
    }),
    field({ name: 'new_password_again', label: 'Repeat the new password', type: 'password', required: true, autocomplete: 'new-password' }),
    formAlert(),
    h('button', { type: 'submit' }, 'Set the new password'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const password = control(form, 'new_password').value;
    if (password !== control(form, 'new_password_again').value) {
      showError(
        form,
        new ApiError({
          title: 'The passwords do not match',
          status: 422,
          errors: [{ field: 'new_password_again', message: 'Type the same password twice.' }],
        }),
      );
      return;
    }
    void submit(form, async () => {
      try {
        await api.confirmPasswordReset(token, password);
      } catch (error) {
        if (!isInvalidToken(error)) throw error;
        invalid();
        screen.querySelector<HTMLElement>('h1')?.focus();
        return;
      }
      go.showLogin('Your password was changed. Log in with the new one.');
    });
  });
  screen.append(form, h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => go.showLogin() }, 'Back to log in')));
  return screen;
}

/** The page of the emailed verification link: sends the token at once and says how it went. */
export function verifyEmailScreen(api: ApiClient, go: AuthCallbacks, token: string | null): HTMLElement {
  const status = h('p', { role: 'status' }, 'Checking the link…');
  const alert = h('p', { class: 'form-error', role: 'alert' });
  const next = h('p', { hidden: true }, h('button', { type: 'button', onclick: () => go.showApp() }, 'Continue to taskline'));
  const invalid = () => {
    status.textContent = '';
    alert.textContent = `${INVALID_LINK} Log in and choose "Send again" for a new one.`;
  };
  const verify = async () => {
    if (token === null) return invalid();
    try {
      await api.verifyEmail(token);
      status.textContent = 'Your email address is verified. Thank you!';
    } catch (error) {
      if (isInvalidToken(error)) invalid();
      else {
        status.textContent = '';
        alert.textContent = error instanceof ApiError ? describe(error) : String(error);
      }
    } finally {
      next.hidden = false;
    }
  };
  void verify();
  return h('main', { class: 'auth' }, h('h1', { tabindex: -1 }, 'Verify your email'), status, alert, next);
}

/**
 * "Verify your email" with "Send again", shown while the signed-in user's address is
 * unverified. `onVerified` runs when the API says it is verified already (409).
 */
export class VerifyBanner {
  readonly element: HTMLElement;
  private readonly text = h('span');
  private readonly result = h('span', { role: 'status' });
  private readonly again = h('button', { type: 'button' }, 'Send again');

  constructor(
    private readonly api: ApiClient,
    private readonly onVerified: () => void = () => {},
  ) {
    this.again.addEventListener('click', () => void this.sendAgain());
    this.element = h(
      'div',
      { class: 'verify-banner', role: 'region', 'aria-label': 'Verify your email', hidden: true },
      h('strong', {}, 'Verify your email. '),
      this.text,
      ' ',
      this.again,
      this.result,
    );
  }

  show(user: User): void {
    this.element.hidden = user.email_verified !== false; // only when the API says unverified
    this.text.textContent = `Open the link we sent to ${user.email} to confirm the address is yours.`;
  }

  private async sendAgain(): Promise<void> {
    this.again.disabled = true;
    this.result.textContent = '';
    try {
      await this.api.sendVerificationEmail();
      this.result.textContent = 'Sent. Check your inbox for the new link.';
    } catch (error) {
      if (!(error instanceof ApiError)) {
        this.result.textContent = String(error);
      } else if (error.status === 409) {
        this.element.hidden = true;
        this.onVerified();
      } else if (error.status === 429) {
        const wait = error.retryAfter === null ? 'a little while' : `${error.retryAfter} s`;
        this.result.textContent = `Too many emails asked for. Try again in ${wait}.`;
      } else if (error.status !== 401) {
        // 401: the session is over and the app shows the login screen.
        this.result.textContent = describe(error);
      }
    } finally {
      this.again.disabled = false;
    }
  }
}

/** The account page's mark of the address: "Verified" or "Not verified" (in words). */
export function verifiedBadge(user: User): HTMLElement {
  return user.email_verified === true
    ? h('span', { class: 'badge verified' }, 'Verified')
    : h('span', { class: 'badge unverified' }, 'Not verified');
}
