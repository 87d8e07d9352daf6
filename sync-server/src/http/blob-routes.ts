/**
 * REST for encrypted file blobs, mounted at `/api/blobs` (docs/api.md "Blobs"). Every route needs an access
 * token. Chunk bodies are raw `application/octet-stream`, refused from `Content-Length` before a byte is
 * read when too long, and read with a hard cap otherwise, so the server holds at most one chunk per request
 * in memory; downloads are streamed chunk by chunk with backpressure.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { AppError, BLOB_CHUNK_BYTES, BlobEmptyBody, CreateBlobRequest, resolveByteRange } from '@parley/shared/protocol';
import type { Principal, TokenService } from '../auth/tokens.ts';
import type { BlobService } from '../blobs/service.ts';
import type { Logger } from '../log.ts';
import { jsonBody } from './body.ts';
import { requirePrincipal } from './conversation-routes.ts';
import { parseRequest } from './validate.ts';

/** Dependencies of the blob routes. */
export interface BlobRoutesOptions {
  blobs: BlobService;
  tokens: TokenService;
  log: Logger;
}

const BlobParam = z.object({ id: z.uuid() }).strict();
const ChunkParam = z.object({ id: z.uuid(), index: z.string().regex(/^(0|[1-9]\d{0,9})$/).transform(Number) }).strict();
const OptionalEmpty = z.union([z.undefined(), BlobEmptyBody]);

/**
 * Reads a raw body of exactly `expected` bytes into one buffer. Throws `payload_too_large` as soon as more
 * arrives (and closes the connection), `invalid_request` for a shorter body or an aborted upload.
 */
function readChunkBody(req: Request, res: Response, expected: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const buf = new Uint8Array(expected);
    let filled = 0;
    let done = false;
    const finish = (error: AppError | null) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (error) reject(error);
      else resolve(buf);
    };
    const onData = (piece: Buffer) => {
      if (filled + piece.length > expected) {
        res.setHeader('Connection', 'close');
        req.pause();
        finish(new AppError('payload_too_large', `Chunk body exceeds the ${expected} bytes this chunk must have`));
        return;
      }
      buf.set(piece, filled);
      filled += piece.length;
    };
    const onEnd = () => finish(filled === expected ? null : new AppError('invalid_request', `Chunk must be exactly ${expected} bytes, got ${filled}`));
    const onError = () => finish(new AppError('invalid_request', 'Upload interrupted'));
    const onAborted = onError;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Builds the router mounted at `/api/blobs`. */
export function blobRoutes(options: BlobRoutesOptions): Router {
  const { blobs, tokens, log } = options;
  const router = express.Router({ strict: true, caseSensitive: true });
  const body = jsonBody();
  const route =
    (handler: (req: Request, principal: Principal, res: Response) => Promise<{ status: number; json?: unknown } | null>): RequestHandler =>
    async (req, res) => {
      const principal = await requirePrincipal(tokens, req);
      const out = await handler(req, principal, res);
      if (out === null) return; // the handler wrote the response itself (streaming)
      res.setHeader('Cache-Control', 'no-store');
      if (out.json === undefined) res.status(out.status).end();
      else res.status(out.status).json(out.json);
    };

  router.post('/', body, route(async (req, p) => {
    const request = parseRequest(CreateBlobRequest, req.body);
    return { status: 201, json: { blobId: await blobs.create(p.userId, request) } };
  }));

  router.put('/:id/chunks/:index', route(async (req, p, res) => {
    const { id, index } = parseRequest(ChunkParam, req.params);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > BLOB_CHUNK_BYTES) {
      res.setHeader('Connection', 'close');
      throw new AppError('payload_too_large', `A chunk is at most ${BLOB_CHUNK_BYTES} bytes`);
    }
    if (!req.is('application/octet-stream')) throw new AppError('unsupported_media_type', 'Chunk body must be application/octet-stream');
    const expected = await blobs.expectChunk(id, p.userId, index);
    if (declared !== undefined && Number(declared) !== expected) {
      res.setHeader('Connection', 'close');
      throw new AppError(Number(declared) > expected ? 'payload_too_large' : 'invalid_request', `Chunk ${index} must be exactly ${expected} bytes`);
    }
    const data = await readChunkBody(req, res, expected);
    await blobs.putChunk(id, index, data);
    return { status: 204 };
  }));

  router.get('/:id/status', route(async (req, p) => {
    const { id } = parseRequest(BlobParam, req.params);
    return { status: 200, json: await blobs.status(id, p.userId) };
  }));

  for (const [action, run] of [
    ['complete', (id: string, userId: string) => blobs.complete(id, userId)],
    ['attach', (id: string, userId: string) => blobs.attach(id, userId)],
    ['detach', (id: string, userId: string) => blobs.detach(id, userId)],
  ] as const) {
    router.post(`/:id/${action}`, body, route(async (req, p) => {
      const { id } = parseRequest(BlobParam, req.params);
      parseRequest(OptionalEmpty, req.body);
      await run(id, p.userId);
      return { status: 204 };
    }));
  }

  router.delete('/:id', route(async (req, p) => {
    const { id } = parseRequest(BlobParam, req.params);
    await blobs.discard(id, p.userId);
    return { status: 204 };
  }));

  router.get('/:id', route(async (req, p, res) => {
    const { id } = parseRequest(BlobParam, req.params);
    const blob = await blobs.openForDownload(id, p.userId);
    // [FILE-11] One range resumes a download cut off mid-way; anything else gets the whole blob.
    const range = resolveByteRange(req.headers.range, blob.size);
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${blob.size}`);
      throw new AppError('range_not_satisfiable', `The range starts past the end of the blob (${blob.size} bytes)`);
    }
    res.status(range ? 206 : 200);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Accept-Ranges', 'bytes');
    if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
    res.setHeader('Content-Length', String(range ? range.end - range.start + 1 : blob.size));
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    try {
      for await (const chunk of blob.read(range)) {
        if (closed) break;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const go = () => {
              res.off('drain', go);
              res.off('close', go);
              resolve();
            };
            res.on('drain', go);
            res.on('close', go);
          });
        }
      }
      if (!closed) res.end();
    } catch (error) {
      // Headers are out: the only honest signal left is a broken transfer (Content-Length not reached).
      log.warn('blob download failed', { err: error });
      res.destroy();
    }
    return null;
  }));

  return router;
}
