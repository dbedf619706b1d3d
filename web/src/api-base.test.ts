// The API base of the two deployment modes: one site (the SPA calls its own origin, `/`) and a
// cross-origin API (an absolute origin).

import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './api';

function recordingFetch() {
  const urls: string[] = [];
  const fetchImpl = async (input: RequestInfo | URL) => {
    urls.push(String(input));
    return new Response(JSON.stringify({ status: 'ok' }), { headers: { 'Content-Type': 'application/json' } });
  };
  return { urls, fetchImpl: fetchImpl as typeof fetch };
}

describe('ApiClient base URL', () => {
  it('with `/` (one site) calls relative paths on the page\'s own origin', async () => {
    const { urls, fetchImpl } = recordingFetch();
    await new ApiClient('/', fetchImpl).refresh();
    expect(urls).toEqual(['/v1/auth/refresh']);
  });

  it('with an origin (cross-origin API) calls absolute URLs, whatever trailing slashes it has', async () => {
    const { urls, fetchImpl } = recordingFetch();
    await new ApiClient('https://api.example.com//', fetchImpl).refresh();
    expect(urls).toEqual(['https://api.example.com/v1/auth/refresh']);
  });

  it('a failed request to the own origin names "the server" rather than an empty URL', async () => {
    const api = new ApiClient('/', (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch);
    const error = await api.refresh().catch((e: unknown) => e);
    expect((error as ApiError).problem.detail).toContain('No response from the server.');
  });
});
