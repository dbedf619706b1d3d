#!/usr/bin/env node
// The deployed site, locally: one origin that routes like the CloudFront distribution of
// template.yaml (SiteDistribution). `/v1/*` and `/docs` go to the API unchanged (every method,
// every header but Host, cookies, query strings; answers passed through as they are, so the
// API's 4xx problem+json are never rewritten); everything else is the built SPA (web/dist) with
// the SPA fallback and the security headers of the distribution. Both are read from
// template.yaml (SiteSpaFallbackFunction's code, SiteResponseHeadersPolicy's values), so what is
// tested is what is deployed. No dependency beyond Node.
//
// Usage: node scripts/site-proxy.mjs --api http://127.0.0.1:9000 [--port 8080] [--dist web/dist]
// The stack behind it must allow the proxy's origin (ALLOWED_ORIGINS=http://localhost:<port>):
// the browser sends Origin on the SPA's same-origin POSTs, and the functions check it.

import { readFileSync, statSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(import.meta.url), '../..');

/** The distribution's site settings, read from template.yaml. */
export function siteSettings(templatePath = join(root, 'template.yaml')) {
  const template = readFileSync(templatePath, 'utf8');
  const one = (pattern, what) => {
    const match = template.match(pattern);
    if (!match) throw new Error(`site-proxy: ${what} not found in ${templatePath}`);
    return match[1];
  };
  const csp = one(/^\s+ContentSecurityPolicy: "([^"]+)"$/m, 'ContentSecurityPolicy');
  const frameOption = one(/^\s+FrameOption: (\S+)$/m, 'FrameOption');
  const referrerPolicy = one(/^\s+ReferrerPolicy: (\S+)$/m, 'ReferrerPolicy');
  const hstsMaxAge = one(/^\s+AccessControlMaxAgeSec: (\d+)$/m, 'AccessControlMaxAgeSec');
  // The CloudFront Function's code: the block scalar under FunctionCode (indented 8 spaces).
  const code = one(/^ +FunctionCode: \|\n((?:(?: {8}.*)?\n)+)/m, 'FunctionCode');
  const handler = new Function(`${code}\nreturn handler;`)();
  return {
    handler,
    headers: {
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': frameOption,
      'Referrer-Policy': referrerPolicy,
      'Strict-Transport-Security': `max-age=${hstsMaxAge}; includeSubDomains`,
    },
  };
}

/** The distribution's cache behaviours: which paths go to the API origin. */
export function isApiPath(path) {
  return path.startsWith('/v1/') || path === '/docs';
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
// Hop-by-hop headers are the connection's, not the message's (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function forward(req, res, api) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name !== 'host' && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers.host = api.host; // as CloudFront's AllViewerExceptHostHeader: the origin's own host
  const upstream = httpRequest(
    { protocol: api.protocol, hostname: api.hostname, port: api.port, method: req.method, path: req.url, headers },
    (answer) => {
      const out = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`site-proxy: the API is unreachable (${error.code ?? error.message})\n`);
  });
  req.pipe(upstream);
}

function serveSite(req, res, dist, site) {
  const [path, query = ''] = (req.url ?? '/').split('?', 2);
  const send = (status, type, body) => {
    res.writeHead(status, { ...site.headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  // The default behaviour allows GET and HEAD only; CloudFront refuses the rest with 403.
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(403, 'text/plain; charset=utf-8', 'method not allowed\n');
  // A private bucket without s3:ListBucket answers a missing key with 403, not 404.
  const missing = () => send(403, 'application/xml', '<Error><Code>AccessDenied</Code></Error>\n');
  let decoded;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return send(400, 'text/plain; charset=utf-8', 'bad request\n');
  }
  const request = site.handler({ request: { method: req.method, uri: decoded, querystring: query, headers: {} } });
  const uri = request.uri === '/' ? '/index.html' : request.uri; // DefaultRootObject
  const file = normalize(join(dist, uri));
  if (!file.startsWith(dist + sep)) return missing();
  let body;
  try {
    if (!statSync(file).isFile()) return missing();
    body = readFileSync(file);
  } catch {
    return missing();
  }
  res.writeHead(200, {
    ...site.headers,
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': uri === '/index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function startSiteProxy({ api, port = 0, host = '127.0.0.1', dist = join(root, 'web/dist') }) {
  const site = siteSettings();
  const apiUrl = new URL(api);
  const distDir = resolve(dist);
  statSync(join(distDir, 'index.html')); // fail now, not on the first request, without a build
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    res.on('finish', () => console.log(`${req.method} ${path} ${res.statusCode}`)); // no query, headers or cookies
    if (isApiPath(path)) forward(req, res, apiUrl);
    else serveSite(req, res, distDir, site);
  });
  return new Promise((ready) => server.listen(port, host, () => ready(server)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      api: { type: 'string', default: 'http://127.0.0.1:9000' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      dist: { type: 'string', default: join(root, 'web/dist') },
    },
  });
  const server = await startSiteProxy({ ...values, port: Number(values.port) });
  const { port } = server.address();
  console.log(`site-proxy: http://localhost:${port} (SPA from ${values.dist}, /v1/* and /docs -> ${values.api})`);
}
