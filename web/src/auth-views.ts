// Sign-up and log-in screens.

import type { ApiClient } from './api';
import { h } from './dom';
import { clearErrors, control, field, formAlert, showError } from './forms';

export interface AuthCallbacks {
  showLogin(notice?: string, email?: string): void;
  showSignup(): void;
  /** "Forgot password?": the form that asks for a reset link (the address typed so far). */
  showForgot(email?: string): void;
  signedIn(): void;
  /** Leaves a page opened by an emailed link for the app: the tasks if signed in, else log in. */
  showApp(): void;
}

export function loginScreen(
  api: ApiClient,
  go: AuthCallbacks,
  notice = '',
  email = '',
): HTMLElement {
  const form = h(
    'form',
    { 'aria-labelledby': 'login-heading', novalidate: true },
    field({ name: 'email', label: 'Email', type: 'email', value: email, required: true, autocomplete: 'username' }),
    field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' }),
    formAlert(),
    h('button', { type: 'submit' }, 'Log in'),
    h('button', { type: 'button', class: 'link', onclick: () => go.showForgot(control(form, 'email').value) }, 'Forgot password?'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(form, async () => {
      await api.login(control(form, 'email').value, control(form, 'password').value);
      go.signedIn();
    });
  });
  return h(
    'main',
    { class: 'auth' },
    h('h1', { id: 'login-heading', tabindex: -1 }, 'Log in'),
    notice && h('p', { class: 'notice', role: 'status' }, notice),
    form,
    h('p', {}, 'No account yet? ', h('button', { type: 'button', class: 'link', onclick: () => go.showSignup() }, 'Sign up')),
  );
}

export function signupScreen(api: ApiClient, go: AuthCallbacks): HTMLElement {
  const form = h(
    'form',
    { 'aria-labelledby': 'signup-heading', novalidate: true },
    field({ name: 'name', label: 'Name', required: true, autocomplete: 'name', maxlength: 100 }),
    field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'email' }),
    field({
      name: 'password',
      label: 'Password',
      type: 'password',
      required: true,
      autocomplete: 'new-password',
      hint: '8 to 128 characters.',
    }),
    formAlert(),
    h('button', { type: 'submit' }, 'Create account'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(form, async () => {
      const user = await api.register(
        control(form, 'email').value,
        control(form, 'password').value,
        control(form, 'name').value,
      );
      go.showLogin('Account created. Log in to continue.', user.email);
    });
  });
  return h(
    'main',
    { class: 'auth' },
    h('h1', { id: 'signup-heading', tabindex: -1 }, 'Sign up'),
    form,
    h('p', {}, 'Already have an account? ', h('button', { type: 'button', class: 'link', onclick: () => go.showLogin() }, 'Log in')),
  );
}

/** Runs a form's action with its submit button disabled; shows any error on the form. */
export async function submit(form: HTMLFormElement, action: () => Promise<void>): Promise<void> {
  const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
  clearErrors(form);
  if (button) button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (error) {
    showError(form, error);
  } finally {
    if (button) button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

/**
 * The inline edit form of a list item: `fields`, an alert, Save and Cancel. Saving runs `save`
 * as the form's action (see `submit`: errors are shown on the form).
 */
export function editForm(
  label: string,
  className: string,
  fields: HTMLElement[],
  cancel: () => void,
  save: (form: HTMLFormElement) => Promise<void>,
): HTMLFormElement {
  const form = h(
    'form',
    { 'aria-label': label, novalidate: true, class: className },
    ...fields,
    formAlert(),
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', onclick: cancel }, 'Cancel'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(form, () => save(form));
  });
  return form;
}
