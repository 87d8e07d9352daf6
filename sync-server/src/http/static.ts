/**
 * Serves the built PWA (app/dist) with an index.html fallback for client-side routes, or a tiny
 * placeholder page when the app has not been built. Never answers for /api/*, /sync or the probes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Router } from 'express';

/** Default location of the built app, relative to this file: <repo>/app/dist. */
export const DEFAULT_APP_DIST = fileURLToPath(new URL('../../../app/dist/', import.meta.url));

/** Paths owned by the server, never served the SPA fallback. */
const RESERVED = /^\/(api|sync|healthz|readyz|metrics)(\/|$)/;

/** The page shown when app/dist is missing: no scripts, no inline styles (CSP-clean). */
export const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Parley server</title></head>
<body>
<h1>Parley sync server</h1>
<p>The server is running, but the web app has not been built. Run <code>npm start</code> from the repository root
(it builds the app first), or <code>npm run build -w @parley/app</code>.</p>
</body>
</html>
`;

/**
 * Serves `<file>.br` / `<file>.gz` (written by app/scripts/precompress.mjs) when the client accepts that
 * encoding, with the original's content type. Falls through for anything else.
 */
function precompressed(distDir: string, indexFile: string): RequestHandler {
  const root = path.resolve(distDir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const accept = String(req.headers['accept-encoding'] ?? '');
    const encodings: Array<[string, string]> = [];
    if (/\bbr\b/.test(accept)) encodings.push(['br', '.br']);
    if (/\bgzip\b/.test(accept)) encodings.push(['gzip', '.gz']);
    if (encodings.length === 0) return next();
    let file: string;
    try {
      file = path.resolve(root, `.${decodeURIComponent(req.path)}`);
    } catch {
      return next();
    }
    if (!file.startsWith(`${root}${path.sep}`) && file !== root) return next();
    if (req.path.endsWith('/')) file = path.join(file, 'index.html');
    // Client-side routes get the compressed shell, like the uncompressed fallback below.
    if (!existsSync(file) && path.extname(req.path) === '' && wantsFallback(req)) file = indexFile;
    for (const [encoding, suffix] of encodings) {
      if (!existsSync(file + suffix)) continue;
      const base = path.basename(file);
      res.setHeader('Content-Encoding', encoding);
      res.setHeader('Vary', 'Accept-Encoding');
      res.type(path.extname(file) === '.webmanifest' ? 'application/manifest+json' : path.extname(file));
      if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      else res.setHeader('Cache-Control', 'no-cache');
      if (base === 'index.html') res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(file + suffix, (error) => {
        if (error) next(error);
      });
      return;
    }
    next();
  };
}

function wantsFallback(req: Parameters<RequestHandler>[0]): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && !RESERVED.test(req.path);
}

/** Static app (or placeholder) router. */
export function staticApp(distDir: string = DEFAULT_APP_DIST): Router {
  const router = express.Router();
  const indexFile = path.join(distDir, 'index.html');
  if (existsSync(indexFile)) {
    router.use((req, res, next) => (RESERVED.test(req.path) ? next('router') : next()));
    router.use(precompressed(distDir, indexFile));
    router.use(
      express.static(distDir, {
        index: 'index.html',
        dotfiles: 'ignore',
        fallthrough: true,
        redirect: false,
        setHeaders: (res, file) => {
          const base = path.basename(file);
          // Hashed build assets never change; the shell and service worker must always be revalidated.
          if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
          else if (base === 'index.html' || base === 'sw.js' || base.endsWith('.webmanifest')) res.setHeader('Cache-Control', 'no-cache');
        },
      }),
    );
    router.use((req, res, next) => {
      if (!wantsFallback(req) || path.extname(req.path) !== '') return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(indexFile, (error) => {
        if (error) next(error);
      });
    });
  } else {
    router.use((req, res, next) => {
      if (!wantsFallback(req) || path.extname(req.path) !== '') return next();
      res.status(200).type('html').setHeader('Cache-Control', 'no-cache');
      res.send(PLACEHOLDER_HTML);
    });
  }
  return router;
}
