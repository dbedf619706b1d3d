// Unit tests of the coordination of refreshes between tabs: an in-memory Web Locks stand-in
// shared by the "tabs", and Node's BroadcastChannel (which delivers between instances of one
// process as browsers do between tabs).

import { afterEach, describe, expect, it } from 'vitest';
import { type Locks, SHARED_TOKEN_MAX_AGE_MS, TabCoordinator } from './tabs';

/** One browser's lock manager: exclusive locks granted in request order. */
function browserLocks(): Locks {
  let held = false;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else held = false;
  };
  async function request<T>(
    _name: string,
    optionsOrCallback: { ifAvailable: boolean } | ((lock: unknown) => Promise<T>),
    maybeCallback?: (lock: unknown) => Promise<T>,
  ): Promise<T> {
    const [ifAvailable, callback] =
      typeof optionsOrCallback === 'function'
        ? [false, optionsOrCallback]
        : [optionsOrCallback.ifAvailable, maybeCallback!];
    if (held && ifAvailable) return callback(null);
    if (held) await new Promise<void>((resolve) => waiting.push(resolve));
    held = true;
    try {
      return await callback({});
    } finally {
      release();
    }
  }
  return { request } as Locks;
}

const opened: TabCoordinator[] = [];
afterEach(() => {
  for (const tab of opened.splice(0)) tab.close();
});

/** `count` tabs of one browser, with a clock the test can move. */
function browser(count: number, locks: Locks | null = browserLocks()) {
  const name = `test-${Math.random()}`;
  const clock = { now: 1_000_000 };
  /** A tab of this browser, opened now. */
  const open = () => {
    const tab = new TabCoordinator(locks, new BroadcastChannel(name), () => clock.now);
    opened.push(tab);
    return tab;
  };
  const tabs = Array.from({ length: count }, open);
  return { tabs, clock, open };
}

/** A refresh endpoint: counts calls, issues token-1, token-2, ... after `delayMs`. */
function server(delayMs = 20, sessionExists = true) {
  let calls = 0;
  return {
    calls: () => calls,
    refresh: async () => {
      calls += 1;
      const token = `token-${calls}`;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return sessionExists ? token : null;
    },
  };
}

describe('tabs refreshing at once', () => {
  it('spend the cookie once and all take the token of the tab that refreshed', async () => {
    const { tabs } = browser(3);
    const api = server();
    const tokens = await Promise.all(tabs.map((tab) => tab.refresh(api.refresh)));
    expect(api.calls()).toBe(1);
    expect(tokens).toEqual(['token-1', 'token-1', 'token-1']);
  });

  it('a tab restored a moment later takes the fresh token too', async () => {
    const { tabs, clock } = browser(2);
    const api = server();
    expect(await tabs[0].refresh(api.refresh)).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 10)); // the announcement is delivered
    clock.now += 2_000;
    expect(await tabs[1].refresh(api.refresh)).toBe('token-1');
    expect(api.calls()).toBe(1);
  });

  it('a tab whose script started after the announcement asks for the token instead of refreshing', async () => {
    const { tabs, clock, open } = browser(1);
    const api = server();
    expect(await tabs[0].refresh(api.refresh)).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Opened after tab 1 refreshed and announced: it never heard the announcement.
    const late = open();
    clock.now += 3_000;
    expect(await late.refresh(api.refresh)).toBe('token-1');
    expect(api.calls()).toBe(1);
  });

  it('a token older than the sharing window is not taken: the tab refreshes itself', async () => {
    const { tabs, clock } = browser(2);
    const api = server();
    await tabs[0].refresh(api.refresh);
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock.now += SHARED_TOKEN_MAX_AGE_MS + 1;
    expect(await tabs[1].refresh(api.refresh)).toBe('token-2');
  });

  it('the token a tab found refused is never handed back to it', async () => {
    const { tabs } = browser(2);
    const api = server();
    await tabs[0].refresh(api.refresh);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await tabs[1].refresh(api.refresh, 'token-1')).toBe('token-2');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await tabs[0].refresh(api.refresh, 'token-2')).toBe('token-3');
  });

  it('no session is not shared, and a sign-out withdraws the shared token', async () => {
    const { tabs } = browser(2);
    const none = server(5, false);
    expect(await tabs[0].refresh(none.refresh)).toBeNull();
    const api = server();
    expect(await tabs[1].refresh(api.refresh)).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    tabs[1].signedOut();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await tabs[0].refresh(api.refresh)).toBe('token-2');
  });

  it('without Web Locks each tab refreshes on its own', async () => {
    const { tabs } = browser(2, null);
    const api = server();
    await Promise.all(tabs.map((tab) => tab.refresh(api.refresh)));
    expect(api.calls()).toBe(2);
  });
});
