// The emailed links: the token is read from the fragment and removed from the address bar.

import { describe, expect, it } from 'vitest';
import { takeEmailLink } from './links';

function fakeHistory() {
  const urls: string[] = [];
  return { urls, history: { replaceState: (_data: unknown, _unused: string, url?: string | URL | null) => void urls.push(String(url)) } };
}

describe('takeEmailLink', () => {
  it('reads the reset token from the fragment and replaces the URL without it', () => {
    const { urls, history } = fakeHistory();
    const link = takeEmailLink({ pathname: '/reset-password', search: '', hash: '#token=abc_-123' }, history);
    expect(link).toEqual({ route: 'reset-password', token: 'abc_-123' });
    expect(urls).toEqual(['/reset-password']);
  });

  it('reads the verification token and keeps a query string', () => {
    const { urls, history } = fakeHistory();
    const link = takeEmailLink({ pathname: '/verify-email', search: '?x=1', hash: '#token=T' }, history);
    expect(link).toEqual({ route: 'verify-email', token: 'T' });
    expect(urls).toEqual(['/verify-email?x=1']);
  });

  it('a link without a token (a reload after the fragment was removed) has none', () => {
    const { urls, history } = fakeHistory();
    expect(takeEmailLink({ pathname: '/reset-password', search: '', hash: '' }, history)).toEqual({
      route: 'reset-password',
      token: null,
    });
    expect(urls).toEqual([]);
    expect(takeEmailLink({ pathname: '/verify-email/', search: '', hash: '#token=' }, history)).toEqual({
      route: 'verify-email',
      token: null,
    });
    expect(urls).toEqual(['/verify-email/']);
  });

  it('leaves every other path alone, fragment included', () => {
    const { urls, history } = fakeHistory();
    expect(takeEmailLink({ pathname: '/', search: '', hash: '#token=abc' }, history)).toBeNull();
    expect(takeEmailLink({ pathname: '/reset-password-x', search: '', hash: '#token=abc' }, history)).toBeNull();
    expect(urls).toEqual([]);
  });
});
