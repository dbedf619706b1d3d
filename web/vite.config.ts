import { defineConfig } from 'vitest/config';

// The SPA must be served from an origin the API allows (ALLOWED_ORIGINS; the local default is
// http://localhost:5173), so the port is strict: never silently move to another one.
export default defineConfig({
  server: { host: 'localhost', port: 5173, strictPort: true },
  preview: { host: 'localhost', port: 5173, strictPort: true },
  build: { target: 'es2022', sourcemap: true },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
