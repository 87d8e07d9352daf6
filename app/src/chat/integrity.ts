/**
 * The integrity notice of a conversation, as data (DESIGN §5: "a gap in a device's counter means a frame was
 * withheld: show it"; docs/threat-model.md, "Drop or withhold frames"). Two problems are shown:
 *
 * - Missing updates: counter gaps ([FRAME-8]) of some device that lasted `GAP_SHOW_AFTER_MS`. Gaps are normal
 *   for a moment while frames arrive (opening, mid-sync, out-of-order delivery), so a gap is shown only once
 *   it has persisted, and disappears as soon as it is filled.
 * - Rejected updates: frames the client refused ([FRAME-5], [BIND-3], [BIND-4]), with the reason in words.
 *   `replayed` is shown too: it is not a repeat (the same bytes again are a no-op, [FRAME-7]) but a different
 *   update under a number its device already used, whose content was dropped (e.g. two copies of one device's
 *   app writing at once).
 *
 * Pure (no Solid, no DOM): the chat store feeds it the conversation's current `gaps()` and `invalidFrames()`,
 * and app/test/integrity.test.ts covers it. Text goes to the screen only through escaped text nodes.
 */
import type { CounterGap, FrameErrorCode, InvalidFrame } from '@parley/shared/envelope';

/** How long a counter gap must persist before it is shown (frames still arriving fill it sooner). */
export const GAP_SHOW_AFTER_MS = 5000;

/** Most summary lines per section; the rest are added up in one line (the Details list has them all). */
export const MAX_LINES = 3;

/** Most entries in the Details list (a hostile member can send thousands of bad frames). */
export const MAX_DETAILS = 50;

/** A counter gap of one segment (`Conversation.gaps()`, flattened). */
export interface SegmentGap extends CounterGap {
  segmentId: string;
}

/** A rejected frame of one segment (`Conversation.invalidFrames()`). */
export interface SegmentInvalid {
  segmentId: string;
  frame: InvalidFrame;
}

/** What the notice shows for one conversation. */
export interface ConversationIntegrity {
  /** Gaps that persisted for `GAP_SHOW_AFTER_MS` and are still open. */
  gaps: SegmentGap[];
  /** Rejected frames worth telling the user about (see `rejectionReason`). */
  invalid: SegmentInvalid[];
}

/** The notice's sentences. Empty `missing` and `rejected`: show nothing. */
export interface IntegritySummary {
  /** One sentence per sender with missing updates ("2 updates from bob are missing."). */
  missing: string[];
  /** Why updates can be missing, naming the sender when there is one. Empty when `missing` is. */
  missingWhy: string;
  /** One sentence per reason and sender ("1 update failed its signature check (altered or forged)."). */
  rejected: string[];
  /** Per device and per frame, for the Details disclosure. */
  details: string[];
}

/** How a rejected frame is described to users; several codes share a description. */
type Reason = 'signature' | 'decrypt' | 'not_member' | 'foreign' | 'omission' | 'reused' | 'malformed';

/**
 * Every `FrameErrorCode` and how it is shown: a new code fails the typecheck here until it is described.
 * `null`: never shown. `unknown_epoch` never arrives as invalid (such frames wait for their key, [BIND-6]).
 */
const REASON_OF: Record<FrameErrorCode, Reason | null> = {
  malformed: 'malformed',
  too_large: 'malformed',
  unsupported_version: 'malformed',
  unknown_signer: 'not_member',
  bad_signature: 'signature',
  not_member: 'not_member',
  unknown_epoch: null,
  decrypt_failed: 'decrypt',
  invalid_payload: 'malformed',
  replayed: 'reused',
  invalid_update: 'malformed',
  foreign_client: 'foreign',
  overwrite: 'foreign',
  incomplete_snapshot: 'omission',
};

/** The words for each reason, after "1 update" / "3 updates". */
const REASON_TEXT: Record<Reason, { one: string; many: string }> = {
  signature: { one: 'failed its signature check (altered or forged)', many: 'failed their signature check (altered or forged)' },
  decrypt: { one: 'could not be decrypted', many: 'could not be decrypted' },
  not_member: { one: 'came from someone who is not a member', many: 'came from someone who is not a member' },
  foreign: { one: 'tried to change or replace someone else’s messages', many: 'tried to change or replace someone else’s messages' },
  omission: { one: 'left out or changed messages it claimed to keep (restored)', many: 'left out or changed messages they claimed to keep (restored)' },
  reused: {
    one: 'reused the number of an earlier update from the same device and was dropped',
    many: 'reused the numbers of earlier updates from the same device and were dropped',
  },
  malformed: { one: 'was malformed', many: 'were malformed' },
};

/** The rejected frames the notice shows (drops codes mapped to `null`). */
export function visibleInvalid(frames: readonly SegmentInvalid[]): SegmentInvalid[] {
  return frames.filter((f) => REASON_OF[f.frame.code] !== null);
}

/** `Conversation.gaps()` as one list. */
export function flattenGaps(perSegment: ReadonlyArray<{ segmentId: string; gaps: readonly CounterGap[] }>): SegmentGap[] {
  return perSegment.flatMap(({ segmentId, gaps }) => gaps.map((g) => ({ segmentId, ...g })));
}

/**
 * Decides which gaps have persisted. A gap is identified by its device and its first missing counter: it keeps
 * its age while newer frames arrive above it (its end moves up), and starts over when frames at its start
 * arrive (the sender's frames are getting through). Gaps that are gone are forgotten at once.
 */
export class GapWatch {
  readonly #since = new Map<string, number>();

  constructor(readonly delayMs = GAP_SHOW_AFTER_MS) {}

  /**
   * Takes the current gaps at time `now` (ms) and returns those that have lasted `delayMs`, and when the next
   * one will have (call again then; undefined when none is waiting).
   */
  update(gaps: readonly SegmentGap[], now: number): { shown: SegmentGap[]; dueAt: number | undefined } {
    const seen = new Set<string>();
    const shown: SegmentGap[] = [];
    let dueAt: number | undefined;
    for (const g of gaps) {
      const key = `${g.segmentId}\n${g.userId}\n${g.deviceId}\n${g.from}`;
      seen.add(key);
      const since = this.#since.get(key) ?? now;
      this.#since.set(key, since);
      const due = since + this.delayMs;
      if (due <= now) shown.push(g);
      else dueAt = dueAt === undefined ? due : Math.min(dueAt, due);
    }
    for (const key of this.#since.keys()) if (!seen.has(key)) this.#since.delete(key);
    return { shown, dueAt };
  }
}

const count = (n: number) => n.toLocaleString('en-US');
const updates = (n: number) => `${count(n)} update${n === 1 ? '' : 's'}`;
const short = (id: string) => id.slice(0, 8);

/** Adds to the total of `key`, keeping first-seen order. */
function tally<K>(totals: Map<K, number>, key: K, n: number): void {
  totals.set(key, (totals.get(key) ?? 0) + n);
}

/** At most `MAX_LINES` lines: the rest become one line made by `rest(count of lines left out, their total)`. */
function capped<T>(items: Array<[T, number]>, line: (item: T, n: number) => string, rest: (groups: number, total: number) => string): string[] {
  if (items.length <= MAX_LINES) return items.map(([k, n]) => line(k, n));
  const kept = items.slice(0, MAX_LINES - 1);
  const left = items.slice(MAX_LINES - 1);
  return [...kept.map(([k, n]) => line(k, n)), rest(left.length, left.reduce((s, [, n]) => s + n, 0))];
}

/** Which document a detail line is about: the membership document (`m_…`) or a message segment. */
function where(docName: string): string {
  return docName.startsWith('m_') ? 'membership' : `segment ${short(docName)}`;
}

/**
 * The notice's sentences for the gaps and rejected frames to show. `nameOf` gives a member's display name, or
 * undefined when unknown ("a member" is used then).
 */
export function summarizeIntegrity(state: ConversationIntegrity, nameOf: (userId: string) => string | undefined): IntegritySummary {
  const name = (userId: string | undefined) => (userId === undefined ? undefined : nameOf(userId)) ?? 'a member';

  const missingBy = new Map<string, number>();
  for (const g of state.gaps) tally(missingBy, g.userId, g.to - g.from + 1);
  const missing = capped(
    [...missingBy],
    (userId, n) => `${updates(n)} from ${name(userId)} ${n === 1 ? 'is' : 'are'} missing.`,
    (senders, n) => `${updates(n)} from ${senders} more members are missing.`,
  );
  const total = [...missingBy.values()].reduce((s, n) => s + n, 0);
  const them = total === 1 ? 'it' : 'them';
  const only = missingBy.size === 1 ? [...missingBy.keys()][0] : undefined;
  const missingWhy =
    missingBy.size === 0
      ? ''
      : `The server may be withholding ${them}, or ${only !== undefined ? `${name(only)}’s device` : 'the sender’s device'} lost ${them} before sending.`;

  const rejectedBy = new Map<string, number>();
  for (const { frame } of state.invalid) {
    const reason = REASON_OF[frame.code];
    if (reason !== null) tally(rejectedBy, `${reason}\n${frame.userId ?? ''}`, 1);
  }
  const rejected = capped(
    [...rejectedBy],
    (key, n) => {
      const [reason, userId] = key.split('\n') as [Reason, string];
      const text = REASON_TEXT[reason];
      return `${updates(n)}${userId ? ` from ${name(userId)}` : ''} ${n === 1 ? text.one : text.many}.`;
    },
    (_groups, n) => `${count(n)} more update${n === 1 ? ' was' : 's were'} rejected.`,
  );

  const details = [
    ...state.gaps.map(
      (g) => `Missing: ${name(g.userId)}, device ${short(g.deviceId)}, update ${g.from === g.to ? count(g.from) : `${count(g.from)}–${count(g.to)}`} (${where(g.segmentId)})`,
    ),
    ...state.invalid.map(({ segmentId, frame: f }) => {
      const who = f.userId !== undefined ? `${name(f.userId)}, device ${short(f.deviceId ?? '')}, update ${count(f.counter ?? 0)}` : 'sender not verified';
      return `Rejected (${f.code}): ${who} (${where(segmentId)})`;
    }),
  ];
  const overflow = details.length - MAX_DETAILS;
  return {
    missing,
    missingWhy,
    rejected,
    details: overflow > 0 ? [...details.slice(0, MAX_DETAILS), `… and ${count(overflow)} more`] : details,
  };
}
