/**
 * The group's verified membership changes as lines in the conversation ("Ann added Dan", "Bob left"), so
 * members learn who joined (a new member reads the earlier history) and who left, where it happened. Only
 * changes the membership log verified (signed by an admin, or by the member leaving) become lines.
 */
import type { MembershipEvent } from '@parley/shared/client';

/** One line of the timeline. */
export interface MembershipLine {
  id: string;
  ts: number;
  text: string;
}

/** A rename this close after the creation, by the creator, is the group's first name: one line. */
const CREATE_RENAME_MS = 60_000;

/** The lines for a group's events (`nameOf` gives a member's display name; `meId` reads as "you"). */
export function membershipLines(events: readonly MembershipEvent[], nameOf: (userId: string) => string, meId: string): MembershipLine[] {
  const who = (u: string, start: boolean) => (u === meId ? (start ? 'You' : 'you') : nameOf(u));
  const out: MembershipLine[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const actor = who(e.actor, true);
    const target = e.target === undefined ? '' : who(e.target, false);
    let text: string;
    switch (e.type) {
      case 'create': {
        const next = events[i + 1];
        if (next?.type === 'rename' && next.actor === e.actor && next.ts - e.ts <= CREATE_RENAME_MS) {
          text = `${actor} created the group “${next.name ?? ''}”`;
          i++;
        } else text = `${actor} created the group`;
        break;
      }
      case 'add':
        text = `${actor} added ${target}`;
        break;
      case 'remove':
        text = `${actor} removed ${target}`;
        break;
      case 'leave':
        text = `${actor} left`;
        break;
      case 'rename':
        text = `${actor} renamed the group to “${e.name ?? ''}”`;
        break;
      case 'role':
        text = `${actor} made ${target} ${e.role === 'admin' ? 'an admin' : 'a member'}`;
        break;
      default: {
        const never: never = e.type;
        throw new TypeError(`unknown membership event ${String(never)}`);
      }
    }
    out.push({ id: e.id, ts: e.ts, text });
  }
  return out;
}

/**
 * Places lines among the loaded messages: `before.get(id)` are the lines shown just above message `id` (after
 * the previous message's time); `after` follow the newest message. With older history not loaded yet
 * (`hasOlder`), lines older than the oldest loaded message are left out: they belong to that history.
 */
export function placeLines(
  lines: readonly MembershipLine[],
  messages: readonly { id: string; ts: number }[],
  hasOlder: boolean,
): { before: Map<string, MembershipLine[]>; after: MembershipLine[] } {
  const before = new Map<string, MembershipLine[]>();
  const after: MembershipLine[] = [];
  const sorted = [...lines].sort((a, b) => a.ts - b.ts);
  for (const line of sorted) {
    // The first message at or after the line (binary search: a few lines among up to 100,000 messages).
    let lo = 0;
    let hi = messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (messages[mid]!.ts < line.ts) lo = mid + 1;
      else hi = mid;
    }
    const m = lo;
    if (m === messages.length) {
      after.push(line);
      continue;
    }
    if (m === 0 && hasOlder) continue;
    const id = messages[m]!.id;
    const list = before.get(id);
    if (list) list.push(line);
    else before.set(id, [line]);
  }
  return { before, after };
}
