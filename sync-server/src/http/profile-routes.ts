/**
 * Profile keys (`/api/profile-keys`, bearer): owners upload their profile key sealed for contacts (users
 * who share a conversation with them, or themselves); recipients fetch the newest wrap per owner.
 */
import express, { type Router } from 'express';
import { AppError, fromBase64Url, PutProfileKeysRequest, toBase64Url } from '@parley/shared/protocol';
import type { TokenService } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { contactsOf } from '../db/conversations.ts';
import { insertProfileWraps, profileWrapsFor } from '../db/profiles.ts';
import { jsonBody } from './body.ts';
import { requirePrincipal } from './conversation-routes.ts';
import { parseRequest } from './validate.ts';

/** Builds the router mounted at `/api/profile-keys`. */
export function profileRoutes(options: { db: Database; tokens: TokenService }): Router {
  const { db, tokens } = options;
  const router = express.Router({ strict: true, caseSensitive: true });

  router.post('/', ...jsonBody(), async (req, res) => {
    const p = await requirePrincipal(tokens, req);
    const body = parseRequest(PutProfileKeysRequest, req.body);
    const allowed = new Set([p.userId, ...(await contactsOf(db, p.userId))]);
    if (body.wraps.some((w) => !allowed.has(w.recipientId)))
      throw new AppError('invalid_request', 'Invalid request: wraps: recipients must be you or your contacts');
    await insertProfileWraps(db, p.userId, body.version, body.wraps.map((w) => ({ recipientId: w.recipientId, wrap: Buffer.from(fromBase64Url(w.wrap)), sig: Buffer.from(fromBase64Url(w.sig)) })));
    res.setHeader('Cache-Control', 'no-store');
    res.status(204).end();
  });

  router.get('/', async (req, res) => {
    const p = await requirePrincipal(tokens, req);
    const contacts = new Set([p.userId, ...(await contactsOf(db, p.userId))]);
    const rows = (await profileWrapsFor(db, p.userId)).filter((r) => contacts.has(r.owner_id));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ wraps: rows.map((r) => ({ ownerId: r.owner_id, version: r.version, wrap: toBase64Url(r.wrap), sig: toBase64Url(r.sig) })) });
  });

  return router;
}
