/**
 * User-facing text for client errors. Screens branch on `ClientError.code` only, never on messages.
 */
import { isClientError } from '@parley/shared/client';

function seconds(n: number | undefined): string {
  if (n === undefined) return 'a little while';
  if (n < 90) return `${n} second${n === 1 ? '' : 's'}`;
  return `${Math.ceil(n / 60)} minutes`;
}

/** A sentence for any error thrown by the client core (or anything else). */
export function errorText(e: unknown): string {
  if (!isClientError(e)) return 'Something went wrong. Please try again.';
  switch (e.code) {
    case 'invalid_credentials':
      return 'That username and password do not match. Check both and try again.';
    case 'rate_limited':
      return `Too many attempts. Try again in ${seconds(e.retryAfter)}.`;
    case 'network':
      return 'Cannot reach the server. Check your connection and try again.';
    case 'username_taken':
      return 'That username is taken. Try another one.';
    case 'weak_password':
      return 'That password is too easy to guess. Choose a longer, less common one.';
    case 'wrong_password':
      return 'The current password is not right.';
    case 'bad_recovery_key':
      return 'That recovery key has a typo. Check each group of four characters.';
    case 'invalid_input':
      return e.message.length > 0 ? `${e.message}.` : 'Please check what you typed.';
    case 'not_signed_in':
    case 'unauthorized':
      return 'Your session has ended. Please sign in again.';
    case 'bundle_decrypt_failed':
    case 'bundle_corrupt':
    case 'key_mismatch':
      return 'Your keys could not be unlocked safely. Nothing was changed; please contact support.';
    case 'unavailable':
      return `The server is busy. Try again in ${seconds(e.retryAfter)}.`;
    default:
      return 'Something went wrong on the server. Please try again.';
  }
}
