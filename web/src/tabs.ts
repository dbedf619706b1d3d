// Refreshes coordinated across the tabs of one browser. All tabs share one refresh cookie,
// which is single-use: if two tabs restored together each spent it, the API would (outside its
// short reuse grace) see a replay and end the session. So a refresh runs under a Web Lock held
// by one tab at a time, and the tab that refreshed announces the new access token on a
// BroadcastChannel; a tab that was waiting for the lock takes that token instead of spending
// the cookie again; a tab whose script started after that announcement asks the others for a
// fresh token before refreshing. The token is only passed between tabs' memory (same origin),
// never stored.

/** A token another tab obtained at most this long ago is taken instead of refreshing. */
export const SHARED_TOKEN_MAX_AGE_MS = 10_000;
/** How long a tab that waited for the lock gives the holder's announcement to arrive. */
export const ANNOUNCEMENT_WAIT_MS = 200;
/**
 * How long a tab about to refresh waits for another tab's answer to "has anyone a fresh token?".
 * A tab whose script started after another tab refreshed (and announced) missed that
 * announcement: asking lets it take that token instead of spending the cookie once more.
 */
export const ASK_WAIT_MS = 100;

const LOCK_NAME = 'taskline-refresh';
const CHANNEL_NAME = 'taskline-session';

/** The part of the Web Locks API used here (`navigator.locks`). */
export interface Locks {
  request<T>(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>;
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

/** The part of BroadcastChannel used here. */
export interface Channel {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

type Message = { type: 'token'; token: string } | { type: 'signed-out' } | { type: 'ask' };

/** Performs one refresh: the new access token, or null when there is no session. */
export type Refresh = () => Promise<string | null>;

export class TabCoordinator {
  private shared: { token: string; receivedAt: number } | null = null;
  private arrived: (() => void) | null = null;

  constructor(
    private readonly locks: Locks | null,
    private readonly channel: Channel | null,
    private readonly now: () => number = () => Date.now(),
  ) {
    if (this.channel) {
      this.channel.onmessage = (event) => this.receive(event.data as Message);
    }
  }

  /** The browser's own locks and channel, where available (else each tab refreshes alone). */
  static forBrowser(): TabCoordinator {
    const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks ?? null;
    const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : null;
    return new TabCoordinator(locks, channel);
  }

  /**
   * Runs `refresh` unless another tab has just obtained a token: then that token. `replacing` is
   * the token the caller found refused (never handed back to it).
   */
  async refresh(refresh: Refresh, replacing: string | null = null): Promise<string | null> {
    if (!this.locks) return this.refreshAndAnnounce(refresh);
    const uncontended = await this.locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) =>
      lock ? { token: await this.underLock(refresh, replacing, false) } : null,
    );
    if (uncontended) return uncontended.token;
    return this.locks.request(LOCK_NAME, () => this.underLock(refresh, replacing, true));
  }

  /** Tells the other tabs this session ended (their shared token is no longer offered). */
  signedOut(): void {
    this.shared = null;
    this.post({ type: 'signed-out' });
  }

  close(): void {
    this.channel?.close();
  }

  private async underLock(refresh: Refresh, replacing: string | null, waited: boolean): Promise<string | null> {
    // Another tab held the lock: it was refreshing, and its announcement may still be on the way.
    if (waited && !this.fresh(replacing)) await this.announcement(ANNOUNCEMENT_WAIT_MS);
    // Uncontended: a tab that refreshed before this one listened may still hold a fresh token.
    if (!waited && !this.fresh(replacing) && this.channel) {
      const answered = this.announcement(ASK_WAIT_MS);
      this.post({ type: 'ask' });
      await answered;
    }
    const token = this.fresh(replacing);
    if (token !== null) return token;
    return this.refreshAndAnnounce(refresh);
  }

  private async refreshAndAnnounce(refresh: Refresh): Promise<string | null> {
    const token = await refresh();
    if (token === null) {
      this.shared = null;
    } else {
      this.shared = { token, receivedAt: this.now() };
      this.post({ type: 'token', token });
    }
    return token;
  }

  private fresh(replacing: string | null): string | null {
    const shared = this.shared;
    if (!shared || shared.token === replacing) return null;
    return this.now() - shared.receivedAt <= SHARED_TOKEN_MAX_AGE_MS ? shared.token : null;
  }

  private receive(message: Message): void {
    if (message?.type === 'token' && typeof message.token === 'string') {
      this.shared = { token: message.token, receivedAt: this.now() };
    } else if (message?.type === 'signed-out') {
      this.shared = null;
    } else if (message?.type === 'ask') {
      const token = this.fresh(null);
      if (token !== null) this.post({ type: 'token', token });
      return;
    }
    this.arrived?.();
  }

  private announcement(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.arrived = null;
        resolve();
      }
      this.arrived = done;
    });
  }

  private post(message: Message): void {
    this.channel?.postMessage(message);
  }
}
