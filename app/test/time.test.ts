/**
 * Time labels (app/src/chat/time.ts): relative words follow the locale like the dates around them ("Heute",
 * "vor 5 Min."), English keeps its short forms, and 12-hour clocks have no leading zero ("9:05 AM").
 * Timestamps are built in local time, so the tests hold in any time zone.
 */
import { describe, expect, it } from 'vitest';
import { clockTime, dayLabel, exactTime, listTime, messageTime, nextMidnight } from '../src/chat/time.ts';

const at = (d: number, h: number, m: number, s = 0) => new Date(2026, 11, d, h, m, s).getTime();
const NOW = at(8, 12, 0);
const MIN = 60_000;

describe('English', () => {
  it('keeps the words it had', () => {
    for (const l of ['en-US', 'en-GB']) {
      expect(messageTime(NOW - 20_000, NOW, l)).toBe('just now');
      expect(messageTime(NOW - 5 * MIN, NOW, l)).toBe('5 min ago');
      expect(listTime(NOW - 20_000, NOW, l)).toBe('now');
      expect(listTime(NOW - 5 * MIN, NOW, l)).toBe('5 min');
      expect(listTime(at(7, 9, 5), NOW, l)).toBe('Yesterday');
      expect(dayLabel(at(8, 0, 1), NOW, l)).toBe('Today');
      expect(dayLabel(at(7, 23, 59), NOW, l)).toBe('Yesterday');
    }
    expect(dayLabel(at(6, 9, 5), NOW, 'en-US')).toBe('Sunday, December 6, 2026');
  });

  it('writes 12-hour times without a leading zero and keeps two digits on a 24-hour clock', () => {
    expect(clockTime(at(8, 9, 5), 'en-US')).toBe('9:05 AM');
    expect(messageTime(at(8, 9, 5), NOW, 'en-US')).toBe('9:05 AM');
    expect(listTime(at(8, 9, 5), NOW, 'en-US')).toBe('9:05 AM');
    expect(exactTime(at(8, 9, 5, 7), 'en-US')).toBe('Tuesday, December 8, 2026 at 9:05:07 AM');
    expect(clockTime(at(8, 9, 5), 'en-GB')).toBe('09:05');
    expect(clockTime(at(8, 9, 5), 'de-DE')).toBe('09:05');
    expect(clockTime(at(8, 9, 5), 'ja-JP')).toBe('09:05');
  });
});

describe('other locales', () => {
  it('uses the locale for relative words, capitalised where they start a label', () => {
    expect(dayLabel(at(8, 0, 1), NOW, 'de-DE')).toBe('Heute');
    expect(dayLabel(at(7, 23, 59), NOW, 'de-DE')).toBe('Gestern');
    expect(dayLabel(at(6, 9, 5), NOW, 'de-DE')).toBe('Sonntag, 6. Dezember 2026');
    expect(messageTime(NOW - 20_000, NOW, 'de-DE')).toBe('jetzt');
    expect(messageTime(NOW - 5 * MIN, NOW, 'de-DE')).toBe('vor 5 Min.');
    expect(listTime(NOW - 20_000, NOW, 'de-DE')).toBe('jetzt');
    expect(listTime(NOW - 5 * MIN, NOW, 'de-DE')).toBe('5 Min.');
    expect(listTime(at(7, 9, 5), NOW, 'de-DE')).toBe('Gestern');
    expect(dayLabel(at(8, 0, 1), NOW, 'fr-FR')).toBe('Aujourd’hui');
    expect(dayLabel(at(8, 0, 1), NOW, 'ja-JP')).toBe('今日');
    expect(dayLabel(at(7, 1, 0), NOW, 'ja-JP')).toBe('昨日');
  });
});

describe('nextMidnight', () => {
  it('is the start of the next local day', () => {
    expect(nextMidnight(at(8, 23, 59, 59))).toBe(new Date(2026, 11, 9).getTime());
    expect(nextMidnight(new Date(2026, 11, 8).getTime())).toBe(new Date(2026, 11, 9).getTime());
    expect(nextMidnight(at(31, 12, 0))).toBe(new Date(2027, 0, 1).getTime());
  });
});
