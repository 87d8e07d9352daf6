/**
 * File names split for display: the stem may be cut with an ellipsis on a narrow screen, the extension never
 * is, so "quarterly-report.pdf" reads "quarterl….pdf" rather than "quarterly-r…". Display only: the full name
 * stays in the text (and the title), and nothing here decides how a file is opened.
 */

/** A file name as the stem (truncatable) and the extension (kept whole); `stem + ext` is the name. */
export interface SplitName {
  stem: string;
  ext: string;
}

// A short ASCII extension, with ".tar" before it kept together (".tar.gz"); a stem of at least one character, so a
// dotfile (".env") is all stem. Longer "extensions" are likely part of the name and may be truncated like it.
const EXTENSION = /^(.+?)((?:\.tar)?\.[A-Za-z0-9]{1,8})$/s;

/** Splits `name` into stem and extension (`ext` is '' when there is none worth keeping). Never throws. */
export function splitFileName(name: string): SplitName {
  const m = EXTENSION.exec(name);
  if (!m || m[1] === undefined || m[2] === undefined || m[1].trim() === '') return { stem: name, ext: '' };
  return { stem: m[1], ext: m[2] };
}
