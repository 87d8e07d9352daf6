/**
 * The heading of a search result: who wrote it and where. In a group, "Sender in Group"; in a direct chat the
 * conversation is named after the other person, so "Bob in Bob" would say the name twice: the other person's
 * messages read just "Bob", and my own "You to Bob" (the chat still has to be named).
 */

/** The parts of a result heading: `who` in bold, `where` (may be '') after it, muted. */
export interface HitHeading {
  who: string;
  where: string;
}

/** See the module comment. `author` is a display name; `title` the conversation's title. */
export function hitHeading(kind: 'direct' | 'group' | undefined, mine: boolean, author: string, title: string): HitHeading {
  const who = mine ? 'You' : author;
  if (kind === 'group') return { who, where: ` in ${title}` };
  if (kind === 'direct') return { who, where: mine ? ` to ${title}` : '' };
  return { who, where: ` in ${title}` }; // conversation not in the list (left): keep both names
}
