/**
 * Search result headings (app/src/search/hit-heading.ts): a direct chat is titled with the other person's
 * name, so a heading must not say it twice ("Bob in Bob"); groups keep "Sender in Group".
 */
import { describe, expect, it } from 'vitest';
import { hitHeading } from '../src/search/hit-heading.ts';

describe('hitHeading', () => {
  it('names only the sender of the other person’s message in a direct chat', () => {
    expect(hitHeading('direct', false, 'bob', 'bob')).toEqual({ who: 'bob', where: '' });
  });

  it('says "You to <peer>" for my own message in a direct chat', () => {
    expect(hitHeading('direct', true, 'You', 'bob')).toEqual({ who: 'You', where: ' to bob' });
  });

  it('keeps "Sender in Group" for groups, mine included', () => {
    expect(hitHeading('group', false, 'cat', 'Team')).toEqual({ who: 'cat', where: ' in Team' });
    expect(hitHeading('group', true, 'ignored', 'Team')).toEqual({ who: 'You', where: ' in Team' });
  });

  it('keeps both names when the conversation is no longer listed', () => {
    expect(hitHeading(undefined, false, 'bob', 'Conversation')).toEqual({ who: 'bob', where: ' in Conversation' });
  });
});
