// The account screen: the email address (verified or not), change the name, change the password,
// and the list of sessions (one per login) with "Log out this device" per row and "Log out
// everywhere else".

import { ApiError, type ApiClient, type Session, type User } from './api';
import { submit } from './auth-views';
import { h } from './dom';
import { control, describe, field, formAlert } from './forms';
import { VerifyBanner, verifiedBadge } from './recovery-views';

export interface AccountCallbacks {
  showTasks(): void;
  loggedOut(notice: string): void;
}

export class AccountView {
  readonly element: HTMLElement;
  private readonly status = h('p', { class: 'notice', role: 'status' });
  private readonly sessionsAlert = h('div', { class: 'form-error', role: 'alert' });
  private readonly sessions = h('ul', { class: 'sessions', 'aria-label': 'Sessions' });
  private readonly email = h('p', { class: 'email' });
  private readonly verifyBanner: VerifyBanner;
  private user: User | null = null;
  private readonly nameForm: HTMLFormElement;
  private readonly passwordForm: HTMLFormElement;

  constructor(
    private readonly api: ApiClient,
    private readonly go: AccountCallbacks,
  ) {
    // 409 on "Send again": verified meanwhile (in another tab, say), so the badge says so.
    this.verifyBanner = new VerifyBanner(api, () => {
      if (this.user) this.showUser({ ...this.user, email_verified: true });
    });
    this.nameForm = h(
      'form',
      { 'aria-label': 'Change name', novalidate: true },
      field({ name: 'name', label: 'Name', required: true, autocomplete: 'name', maxlength: 100 }),
      formAlert(),
      h('button', { type: 'submit' }, 'Save name'),
    );
    this.nameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(this.nameForm, async () => {
        const user = await this.api.updateName(control(this.nameForm, 'name').value);
        this.showUser(user);
        this.announce('Your name was saved.');
      });
    });

    this.passwordForm = h(
      'form',
      { 'aria-label': 'Change password', novalidate: true },
      field({
        name: 'current_password',
        label: 'Current password',
        type: 'password',
        required: true,
        autocomplete: 'current-password',
      }),
      field({
        name: 'new_password',
        label: 'New password',
        type: 'password',
        required: true,
        autocomplete: 'new-password',
        hint: '8 to 128 characters. Your other devices will be logged out.',
      }),
      formAlert(),
      h('button', { type: 'submit' }, 'Change password'),
    );
    this.passwordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(this.passwordForm, async () => {
        await this.api.changePassword(
          control(this.passwordForm, 'current_password').value,
          control(this.passwordForm, 'new_password').value,
        );
        this.passwordForm.reset();
        this.announce('Your password was changed. Your other devices were logged out.');
        await this.loadSessions();
      });
    });

    this.element = h(
      'div',
      { class: 'account-screen' },
      h(
        'header',
        {},
        h('h1', { tabindex: -1 }, 'Your account'),
        h('div', { class: 'account' },
          h('button', { type: 'button', onclick: () => this.go.showTasks() }, 'Back to tasks'),
        ),
      ),
      this.verifyBanner.element,
      this.status,
      h(
        'main',
        {},
        h('section', { 'aria-labelledby': 'email-heading' }, h('h2', { id: 'email-heading' }, 'Email'), this.email),
        h('section', { 'aria-labelledby': 'name-heading' }, h('h2', { id: 'name-heading' }, 'Name'), this.nameForm),
        h(
          'section',
          { 'aria-labelledby': 'password-heading' },
          h('h2', { id: 'password-heading' }, 'Password'),
          this.passwordForm,
        ),
        h(
          'section',
          { 'aria-labelledby': 'sessions-heading' },
          h('h2', { id: 'sessions-heading' }, 'Where you are logged in'),
          this.sessionsAlert,
          this.sessions,
          h('button', { type: 'button', onclick: () => void this.endOthers() }, 'Log out everywhere else'),
        ),
      ),
    );
  }

  async load(): Promise<void> {
    try {
      this.showUser(await this.api.me());
    } catch (error) {
      this.showError(error);
    }
    await this.loadSessions();
  }

  private showUser(user: User): void {
    this.user = user;
    control(this.nameForm, 'name').value = user.name;
    this.email.replaceChildren(user.email, ' ', verifiedBadge(user));
    this.verifyBanner.show(user);
  }

  private async loadSessions(): Promise<void> {
    try {
      const sessions = await this.api.listSessions();
      this.sessions.replaceChildren(...sessions.map((session) => this.row(session)));
    } catch (error) {
      this.showError(error);
    }
  }

  private row(session: Session): HTMLElement {
    const device = session.user_agent ?? 'Unknown device';
    return h(
      'li',
      { 'data-session-id': session.id, class: session.current ? 'current' : null },
      h('p', { class: 'device' }, device, session.current && h('strong', {}, ' (this device)')),
      h(
        'p',
        { class: 'hint' },
        `Logged in ${when(session.created_at)} · last active ${when(session.last_used_at)}`,
      ),
      h(
        'button',
        {
          type: 'button',
          'aria-label': session.current ? 'Log out this device' : `Log out ${device}`,
          onclick: () => void this.end(session),
        },
        session.current ? 'Log out this device' : 'Log out',
      ),
    );
  }

  private async end(session: Session): Promise<void> {
    this.sessionsAlert.textContent = '';
    try {
      if (session.current) {
        // This browser's own session: a logout also clears the refresh cookie.
        await this.api.logout();
        this.go.loggedOut('You have logged out.');
        return;
      }
      await this.api.endSession(session.id);
      this.announce('That device was logged out.');
      await this.loadSessions();
    } catch (error) {
      this.showError(error);
    }
  }

  private async endOthers(): Promise<void> {
    this.sessionsAlert.textContent = '';
    try {
      await this.api.endOtherSessions();
      this.announce('Every other device was logged out.');
      await this.loadSessions();
    } catch (error) {
      this.showError(error);
    }
  }

  private showError(error: unknown): void {
    if (error instanceof ApiError && error.status === 401) return; // the app shows the login screen
    this.sessionsAlert.textContent = error instanceof ApiError ? describe(error) : String(error);
  }

  private announce(message: string): void {
    this.status.textContent = message;
  }
}

/** A session time as the reader's locale writes it. */
function when(iso: string): string {
  return new Date(iso).toLocaleString();
}
