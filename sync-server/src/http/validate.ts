/**
 * `parseRequest(schema, data)`: the one way request input becomes typed. Failures become
 * `AppError('invalid_request')` whose message lists the offending field paths and what is wrong with
 * them, never the values sent (they may be secrets or hostile) nor unknown key names.
 */
import { AppError, EncodingError } from '@parley/shared/protocol';
import type { z } from 'zod';

const ISSUE_TEXT: Record<string, string> = {
  invalid_type: 'wrong type or missing',
  too_small: 'too short or too small',
  too_big: 'too long or too large',
  invalid_format: 'bad format',
  invalid_value: 'not an allowed value',
  unrecognized_keys: 'unexpected field(s)',
  invalid_union: 'not an allowed shape',
  not_multiple_of: 'not an allowed value',
};

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? '(body)' : issue.path.map(String).join('.');
  // Custom issues carry our own fixed texts (e.g. username rules, "must decode to 32 bytes").
  const what = issue.code === 'custom' ? issue.message : (ISSUE_TEXT[issue.code] ?? 'invalid');
  return `${where}: ${what}`;
}

/** Parses `data` with `schema`; throws `invalid_request` listing field paths on failure. */
export function parseRequest<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(data);
  } catch (error) {
    // Defence in depth: a refinement that decodes base64url can throw instead of reporting an issue
    // (zod keeps running later refinements after an earlier one failed). Bad input is still a 400.
    if (error instanceof EncodingError) {
      throw new AppError('invalid_request', 'Invalid request: a binary field is not canonical unpadded base64url', { cause: error });
    }
    throw error;
  }
  if (result.success) return result.data;
  const parts = [...new Set(result.error.issues.map(describe))];
  let message = `Invalid request: ${parts.join('; ')}`;
  if (message.length > 480) message = `${message.slice(0, 477)}...`;
  throw new AppError('invalid_request', message);
}
