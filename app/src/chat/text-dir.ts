/** The writing direction of a piece of user text (names, previews, messages). */

/** Letters of the right-to-left blocks (Hebrew, Arabic, Syriac, Thaana, N'Ko, …, their presentation forms, and the historic RTL scripts). */
const RTL_LETTER = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;

/**
 * The direction of `text` by its first strong character, as `dir="auto"` decides it: 'rtl' or 'ltr', or
 * 'auto' when it has none (digits, emoji, punctuation). Set as the element's `dir` (which also isolates it)
 * instead of `dir="auto"` itself: Chromium (156) does not recompute `dir="auto"` when the text of an element
 * cloned from a `<template>` (how Solid renders) changes after it is in the page, so a row that first said
 * "No messages yet" kept left-to-right for a Hebrew message.
 */
export function textDir(text: string): 'ltr' | 'rtl' | 'auto' {
  const m = /[\p{L}\u200e\u200f]/u.exec(text);
  if (!m) return 'auto';
  return m[0] === '\u200f' || RTL_LETTER.test(m[0]) ? 'rtl' : 'ltr';
}
