/**
 * Errors thrown from Hocuspocus hooks. Hocuspocus closes the offending document connection with `code`
 * and `reason` (other documents on the socket keep working); in `onAuthenticate` only `reason` reaches
 * the client (PermissionDenied), so reasons are the stable names from `CLOSE`.
 */
import { CLOSE, type CloseName } from '@parley/shared/protocol';

/** A hook rejection carrying a named close code. */
export class SyncRejection extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(name: CloseName, detail: string) {
    super(`${CLOSE[name].reason}: ${detail}`);
    this.name = 'SyncRejection';
    this.code = CLOSE[name].code;
    this.reason = CLOSE[name].reason;
  }
}
