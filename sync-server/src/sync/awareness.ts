/**
 * Awareness admission (docs/protocol.md [SYNC-4]). Presence travels encrypted: the only state the server
 * admits is `{v: 1, epoch, ciphertext}` under a size cap, and a connection may only set or clear states for
 * Yjs client ids it introduced itself (y-protocols does not authenticate client ids, so without this any
 * peer could overwrite anyone's presence).
 */
import * as decoding from 'lib0/decoding';
import { AWARENESS_MAX_CHARS, AwarenessState } from '@parley/shared/protocol';

/** One entry of an awareness update: a client id, its clock, and its state (null = removed). */
export interface AwarenessEntry {
  clientId: number;
  clock: number;
  state: AwarenessState | null;
}

/** Why an awareness update was refused. */
export type AwarenessProblem = 'undecodable' | 'too_many_entries' | 'bad_state';

/**
 * Decodes a y-protocols awareness update (varUint count, then per entry varUint clientId, varUint clock,
 * varString JSON state) and validates each state. Never throws.
 */
export function parseAwarenessUpdate(update: Uint8Array, maxEntries = 4): { ok: true; entries: AwarenessEntry[] } | { ok: false; problem: AwarenessProblem } {
  try {
    const decoder = decoding.createDecoder(update);
    const count = decoding.readVarUint(decoder);
    if (count > maxEntries) return { ok: false, problem: 'too_many_entries' };
    const entries: AwarenessEntry[] = [];
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const json = decoding.readVarString(decoder);
      if (json.length > AWARENESS_MAX_CHARS + 200) return { ok: false, problem: 'bad_state' };
      const raw: unknown = JSON.parse(json);
      if (raw === null) {
        entries.push({ clientId, clock, state: null });
        continue;
      }
      const parsed = AwarenessState.safeParse(raw);
      if (!parsed.success) return { ok: false, problem: 'bad_state' };
      entries.push({ clientId, clock, state: parsed.data });
    }
    if (decoding.hasContent(decoder)) return { ok: false, problem: 'undecodable' };
    return { ok: true, entries };
  } catch {
    return { ok: false, problem: 'undecodable' };
  }
}
