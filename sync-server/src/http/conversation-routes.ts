/**
 * REST for conversations, members, key wraps, segments and the user directory (docs/api.md). Every route
 * needs an access token; a user sees only conversations they belong to (others are 404, never 403, so
 * ids cannot be probed). Bodies are parsed with the shared zod schemas.
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import {
  AddMemberRequest,
  AppError,
  CreateConversationRequest,
  DeliverWrapsRequest,
  EpochUpload,
  RemoveMemberRequest,
  RolloverRequest,
  SetRoleRequest,
  UserLookupRequest,
  toBase64Url,
  usernameKey,
  type UserDirectoryEntry,
} from '@parley/shared/protocol';
import type { Principal, TokenService } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { findUserById, findUserByKey, type UserRow } from '../db/users.ts';
import { applyEffects, type EffectSink } from '../conversations/effects.ts';
import * as service from '../conversations/service.ts';
import { contactsOf } from '../db/conversations.ts';
import type { PresenceStore } from '../sync/presence.ts';
import type { Logger } from '../log.ts';
import { bearerToken } from './auth-routes.ts';
import { jsonBody } from './body.ts';
import { parseRequest } from './validate.ts';

/** Dependencies of the conversation routes. */
export interface ConversationRoutesOptions {
  db: Database;
  tokens: TokenService;
  log: Logger;
  /** Where membership effects go (the sync server); resolved lazily because it starts after the app. */
  effects: () => EffectSink | null;
  /** Presence across instances, for GET /api/presence. */
  presence?: () => PresenceStore | null;
}

const ConvParam = z.object({ id: z.uuid() }).strict();
const MemberParam = z.object({ id: z.uuid(), userId: z.uuid() }).strict();
const EpochParam = z.object({ id: z.uuid(), epoch: z.coerce.number().int().min(0).max(2 ** 31 - 1) }).strict();
const UserParam = z.object({ id: z.uuid() }).strict();
const EmptyBody = z.union([z.undefined(), z.object({}).strict()]);

/** Middleware-free principal lookup: verifies the bearer token or throws `unauthorized`. */
export async function requirePrincipal(tokens: TokenService, req: Request): Promise<Principal> {
  const token = bearerToken(req);
  if (token === null) throw new AppError('unauthorized', 'Missing, invalid or expired access token');
  return tokens.verifyAccessToken(token);
}

function directoryEntry(user: UserRow): UserDirectoryEntry {
  return {
    id: user.id,
    username: user.username,
    publicKeys: { identity: toBase64Url(user.identity_key), sealing: toBase64Url(user.sealing_key), sealingSig: toBase64Url(user.sealing_sig) },
  };
}

/** Builds the router mounted at `/api`. */
export function conversationRoutes(options: ConversationRoutesOptions): Router {
  const { db, tokens, log } = options;
  const router = express.Router({ strict: true, caseSensitive: true });
  const body = jsonBody();
  const effect = async (effects: service.ChangeEffects) => {
    try {
      await applyEffects(db, options.effects(), effects);
    } catch (error) {
      log.warn('effects failed', { err: error, convId: effects.convId });
    }
  };
  const route = (handler: (req: Request, principal: Principal) => Promise<{ status: number; json?: unknown }>): RequestHandler => async (req, res) => {
    const principal = await requirePrincipal(tokens, req);
    const out = await handler(req, principal);
    res.setHeader('Cache-Control', 'no-store');
    if (out.json === undefined) res.status(out.status).end();
    else res.status(out.status).json(out.json);
  };

  router.get('/conversations', route(async (_req, p) => ({ status: 200, json: { conversations: await service.listConversations(db, p.userId) } })));

  router.post('/conversations', body, route(async (req, p) => {
    const r = await service.createConversation(db, p.userId, parseRequest(CreateConversationRequest, req.body));
    await effect(r.effects);
    return { status: r.created ? 201 : 200, json: { conversation: r.conversation } };
  }));

  router.get('/conversations/:id', route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    return { status: 200, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  router.post('/conversations/:id/members', body, route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    await effect(await service.addMember(db, p.userId, id, parseRequest(AddMemberRequest, req.body)));
    return { status: 200, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  router.post('/conversations/:id/members/:userId/remove', body, route(async (req, p) => {
    const { id, userId } = parseRequest(MemberParam, req.params);
    const { epoch } = parseRequest(RemoveMemberRequest, req.body);
    await effect(await service.removeMember(db, p.userId, id, userId, epoch));
    return { status: 200, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  router.post('/conversations/:id/members/:userId/role', body, route(async (req, p) => {
    const { id, userId } = parseRequest(MemberParam, req.params);
    await service.setRole(db, p.userId, id, userId, parseRequest(SetRoleRequest, req.body).role);
    await effect({ convId: id });
    return { status: 200, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  router.post('/conversations/:id/leave', body, route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    parseRequest(EmptyBody, req.body);
    await effect(await service.leaveConversation(db, p.userId, id));
    return { status: 204 };
  }));

  router.post('/conversations/:id/epochs', body, route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    await effect(await service.rotateEpoch(db, p.userId, id, parseRequest(EpochUpload, req.body)));
    return { status: 201, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  router.post('/conversations/:id/epochs/:epoch/wraps', body, route(async (req, p) => {
    const { id, epoch } = parseRequest(EpochParam, req.params);
    await service.deliverWraps(db, p.userId, id, epoch, parseRequest(DeliverWrapsRequest, req.body));
    return { status: 204 };
  }));

  router.get('/conversations/:id/keys', route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    return { status: 200, json: await service.keyWraps(db, p.userId, id) };
  }));

  router.post('/conversations/:id/segments/next', body, route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    await effect(await service.prepareNextSegment(db, p.userId, id, parseRequest(RolloverRequest, req.body).fromSegmentId));
    return { status: 200, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  router.post('/conversations/:id/segments/rollover', body, route(async (req, p) => {
    const { id } = parseRequest(ConvParam, req.params);
    await effect(await service.rolloverSegment(db, p.userId, id, parseRequest(RolloverRequest, req.body).fromSegmentId));
    return { status: 200, json: { conversation: await service.getConversation(db, p.userId, id) } };
  }));

  // Which of my contacts (users sharing a conversation with me) are online now. Clients call it on
  // (re)connect; changes then arrive as inbox `presence` notices.
  router.get('/presence', route(async (_req, p) => {
    const contacts = await contactsOf(db, p.userId);
    const store = options.presence?.() ?? null;
    const online = store ? await store.onlineAmong(contacts) : new Set<string>();
    return { status: 200, json: { online: contacts.filter((c) => online.has(c)) } };
  }));

  router.post('/users/lookup', body, route(async (req) => {
    const { username } = parseRequest(UserLookupRequest, req.body);
    const user = await findUserByKey(db, usernameKey(username));
    if (!user) throw new AppError('not_found', 'No such user');
    return { status: 200, json: directoryEntry(user) };
  }));

  router.get('/users/:id', route(async (req) => {
    const { id } = parseRequest(UserParam, req.params);
    const user = await findUserById(db, id);
    if (!user) throw new AppError('not_found', 'No such user');
    return { status: 200, json: directoryEntry(user) };
  }));

  return router;
}
