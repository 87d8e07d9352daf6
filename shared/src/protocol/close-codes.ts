/**
 * WebSocket close / document-close codes the sync server uses, with what a client should do.
 * Hocuspocus closes only the offending document connection; other documents on the socket keep working.
 */
export const CLOSE = {
  /** The access token is missing, invalid or expired: refresh it and re-attach. */
  Unauthorized: { code: 4401, reason: 'unauthorized' },
  /** The user is not (or no longer) a member of the segment's conversation: stop syncing it. */
  Forbidden: { code: 4403, reason: 'forbidden' },
  /** The user was removed from the conversation: drop its live state. */
  Removed: { code: 4404, reason: 'removed' },
  /** The segment is closed (read-only); open the conversation's newest segment. */
  SegmentClosed: { code: 4409, reason: 'segment-closed' },
  /** A frame or message exceeded the size cap. */
  TooLarge: { code: 4413, reason: 'too-large' },
  /** An update wrote outside `log`, held non-binary content, or did not decode. */
  InvalidUpdate: { code: 4422, reason: 'invalid-update' },
  /** An awareness state had the wrong shape or size, or claimed another connection's client id. */
  InvalidAwareness: { code: 4423, reason: 'invalid-awareness' },
  /** Too many messages from this connection; back off before reconnecting. */
  RateLimited: { code: 4429, reason: 'rate-limited' },
  /** The server is shutting down or failed to load the document; reconnect with backoff. */
  Unavailable: { code: 4503, reason: 'unavailable' },
} as const;

export type CloseName = keyof typeof CLOSE;

/**
 * Keepalive ([SYNC-10]). Parley clients publish no awareness while idle, so nothing would cross an idle
 * socket and both ends' silence timeouts (the provider's 30 s, the server's 60 s) would close it. A client
 * whose socket has been silent for a while sends `PING` as a stateless message on one of its documents; the
 * server answers that connection with `PONG` and forwards neither.
 */
export const KEEPALIVE = { ping: 'parley/ping', pong: 'parley/pong' } as const;
