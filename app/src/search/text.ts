/**
 * What a word is, for message search: how text is folded and split into the terms the index stores and a
 * query looks up, and (for the results list) where those terms are in the original text. The index
 * (engine.ts, in the worker) and the highlighter (SearchPanel.tsx, on the page) both use this module, so
 * what is found and what is marked follow the same rules. Pure: no DOM, no worker globals.
 *
 * Tokens, after folding (`foldTerm`):
 *
 * - **word**: a run of anything but whitespace, punctuation, symbols and the characters below (Latin,
 *   Cyrillic, Greek, Arabic, Devanagari… words and numbers).
 * - **pair / char**: scripts written without spaces between words (Han, Hiragana, Katakana, Hangul, Thai,
 *   Lao, Khmer, Myanmar) have no word boundaries to split on, and a dictionary segmenter (`Intl.Segmenter`)
 *   costs ~4.5× this split (measured on Node 24, folding included) and splits a query and the same words
 *   inside a sentence differently. So such a run is indexed as its overlapping character pairs ("北京烤鸭" → 北京, 京烤, 烤鸭)
 *   plus its last character on its own (鸭); a run of one character is that character. A query run of two
 *   or more characters looks up its pairs, all required, so "北京" finds "我们明天去北京吃烤鸭"; a query
 *   run of one character is a `char` term that matches every pair it starts plus the indexed last
 *   characters, i.e. every occurrence of the character.
 * - **emoji**: each pictographic emoji on its own, and each flag (a pair of regional indicators). Skin
 *   tones and variation selectors are dropped and ZWJ sequences are split, so 👍 finds 👍🏽 and 👨‍👩‍👧 is
 *   👨 + 👩 + 👧.
 *
 * Tokenisation is not part of the persisted index (engine.ts keeps the messages and rebuilds the postings
 * on load), so changing these rules needs no format bump: every device re-splits its messages on the next
 * start.
 */

/** Printable ASCII plus tab and line breaks: nothing to decompose, so folding is only lower-casing. */
const ASCII = /^[\t\n\r\x20-\x7e]*$/;

/**
 * Combining marks (accents) and invisible format characters (ZWJ, ZWNJ, soft hyphen, bidi marks, tag
 * characters), which folding drops; except the kana voicing marks (が is not か: they are recombined
 * below) and the zero-width space (a word separator in Thai and Khmer text).
 */
const DROPPED = /(?![\u3099\u309a\u200b])[\p{M}\p{Cf}]/gu;

/** Letters that NFKD does not decompose but a reader types as plain Latin ("strasse" for "straße"). */
const LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
  ς: 'σ',
};
const LETTER = /[ßæœøłđðþıħŧς]/g;

/** Decomposed Hangul syllables and kana voicing marks: folding recomposes them (NFC). */
const DECOMPOSED = /[\u1100-\u11ff\u3099\u309a]/;

/**
 * Folds text for indexing and querying: Unicode NFKD (so full-width "ＡＢＣ１" and half-width "ｶ" are
 * "abc1" and "カ"), combining marks and format characters dropped (see `DROPPED`), lower case, and the
 * letters of `LETTERS` spelled out. So "Café", "cafe" and "CAFÉ" match, and "Straße" and "strasse".
 * Hangul syllables and voiced kana are recomposed, so they stay one character. ASCII text (most of it)
 * skips all but the lower-casing. Never throws.
 */
export function foldTerm(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  const s = text.normalize('NFKD').replace(DROPPED, '').toLowerCase().replace(LETTER, (c) => LETTERS[c] ?? c);
  return DECOMPOSED.test(s) ? s.normalize('NFC').replace(/[\u3099\u309a]/g, '') : s;
}

/** Scripts written without spaces between words (see the module comment), plus ー and 〆, which are "Common". */
const RUN_SCRIPTS = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Hangul}\\p{sc=Thai}\\p{sc=Lao}\\p{sc=Khmer}\\p{sc=Myanmar}\\u30fc\\u3006';
/** One character of such a run: those scripts' own punctuation and symbols (。 ๚ ฿ ⺀) separate runs. */
const RUN_CHAR = `(?![\\p{P}\\p{S}])[${RUN_SCRIPTS}]`;
/** Separators: whitespace (tabs included), punctuation, symbols (skin tones, #, +, currency signs…). */
const SEPARATOR_CLASS = '\\s\\p{Z}\\p{P}\\p{S}\\u200b';
/** One character of a word. */
const WORD_CHAR = `[^${SEPARATOR_CLASS}\\p{Extended_Pictographic}${RUN_SCRIPTS}]`;
/** An emoji token: a flag, or one pictograph. */
const EMOJI = '\\p{RI}{2}|\\p{Extended_Pictographic}';

/** Text with no run or emoji splits on separators alone (a quicker path for most messages). */
const SEPARATORS = new RegExp(`[${SEPARATOR_CLASS}]+`, 'u');
const SPECIAL = new RegExp(`[${RUN_SCRIPTS}\\p{Extended_Pictographic}\\p{RI}]`, 'u');
/** Groups: 1 = emoji, 2 = run; otherwise a word. */
const TOKEN = new RegExp(`(${EMOJI})|((?:${RUN_CHAR})+)|${WORD_CHAR}+`, 'gu');

/** A character outside the BMP (rare ideographs): a run with one is split by code points, not units. */
const ASTRAL = /[\ud800-\udfff]/;

/** The kind of a token (see the module comment). */
export type TokenKind = 'word' | 'pair' | 'char' | 'emoji';

/** A token of a query. */
export interface QueryToken {
  term: string;
  kind: TokenKind;
}

/**
 * Splits folded text into tokens, calling `emit` for each in order. `query`: a run of two or more
 * characters yields only its pairs (the index also stores its last character, for one-character queries).
 */
function scan(folded: string, query: boolean, emit: (term: string, kind: TokenKind) => void): void {
  if (!SPECIAL.test(folded)) {
    for (const w of folded.split(SEPARATORS)) if (w.length > 0) emit(w, 'word');
    return;
  }
  for (const m of folded.matchAll(TOKEN)) {
    const [token, emoji, run] = m;
    if (emoji !== undefined) emit(emoji, 'emoji');
    else if (run !== undefined) {
      if (!ASTRAL.test(run)) {
        const last = run.length - 1;
        for (let i = 0; i < last; i++) emit(run.slice(i, i + 2), 'pair');
        if (last === 0 || !query) emit(run.slice(last), 'char');
        continue;
      }
      const chars = [...run];
      const last = chars.length - 1;
      for (let i = 0; i < last; i++) emit(chars[i]! + chars[i + 1]!, 'pair');
      if (last === 0 || !query) emit(chars[last]!, 'char');
    } else emit(token, 'word');
  }
}

/** The terms the index stores for `text`, in order: folded words, pairs and last characters of runs, emoji. */
export function terms(text: string): string[] {
  const out: string[] = [];
  if (ASCII.test(text)) {
    for (const w of text.toLowerCase().split(SEPARATORS)) if (w.length > 0) out.push(w);
  } else scan(foldTerm(text), false, (t) => out.push(t));
  return out;
}

/** The tokens of query text `q`, in order (duplicates kept): runs give their pairs, or a lone `char`. */
export function queryTokens(q: string): QueryToken[] {
  const out: QueryToken[] = [];
  scan(foldTerm(q), true, (term, kind) => out.push({ term, kind }));
  return out;
}

/** One part of a highlighted text: `hit` parts contain a matched term. */
export interface MarkedPart {
  text: string;
  hit: boolean;
}

/** Like `TOKEN`, but a sequence of emoji (with skin tones) is one unit, so a mark never splits a glyph. */
const MARK_TOKEN = new RegExp(`((?:\\p{RI}{2}|\\p{Extended_Pictographic}[\\u{1f3fb}-\\u{1f3ff}]*)+)|((?:${RUN_CHAR})+)|${WORD_CHAR}+`, 'gu');
const PICTOGRAPH = /\p{RI}{2}|\p{Extended_Pictographic}/gu;
/** A character and what folding may combine with it: marks, half-width voicing marks, Hangul jamo. */
const CLUSTER = /.[\p{M}\uff9e\uff9f\u1160-\u11ff]*/gsu;

/**
 * Splits `text` into parts, marking where the matched (folded) `terms` of a hit are: words equal to or
 * starting with a term, every occurrence of a term inside a run (pairs and single characters), and emoji
 * sequences containing a term emoji. Characters that folding drops (accents, variation selectors, ZWJ)
 * stay with the character before them.
 */
export function markTerms(text: string, terms: readonly string[]): MarkedPart[] {
  if (terms.length === 0 || text.length === 0) return [{ text, hit: false }];
  // Fold one character (with its marks) at a time, remembering where each folded unit came from.
  let folded = '';
  const from: number[] = [];
  const to: number[] = [];
  for (const m of text.matchAll(CLUSTER)) {
    const f = foldTerm(m[0]);
    folded += f;
    for (let k = 0; k < f.length; k++) {
      from.push(m.index);
      to.push(m.index + m[0].length);
    }
  }
  const ranges: Array<[number, number]> = [];
  const mark = (s: number, e: number) => {
    // Up to the next folded unit's source, so dropped characters after the range go with it.
    const end = Math.max(to[e - 1]!, e < from.length ? from[e]! : text.length);
    const prev = ranges.at(-1);
    if (prev && prev[1] >= from[s]!) prev[1] = Math.max(prev[1], end);
    else ranges.push([from[s]!, end]);
  };
  for (const m of folded.matchAll(MARK_TOKEN)) {
    const [token, emoji, run] = m;
    const start = m.index;
    if (emoji !== undefined) {
      if ([...emoji.matchAll(PICTOGRAPH)].some((p) => terms.includes(p[0]))) mark(start, start + token.length);
    } else if (run !== undefined) {
      const hits: Array<[number, number]> = [];
      for (const t of terms) {
        if (t.length === 0) continue;
        for (let i = run.indexOf(t); i >= 0; i = run.indexOf(t, i + 1)) hits.push([i, i + t.length]);
      }
      hits.sort((a, b) => a[0] - b[0]);
      for (const [s, e] of hits) mark(start + s, start + e);
    } else if (terms.some((t) => t.length > 0 && token.startsWith(t))) mark(start, start + token.length);
  }
  const parts: MarkedPart[] = [];
  let last = 0;
  for (const [s, e] of ranges) {
    if (s > last) parts.push({ text: text.slice(last, s), hit: false });
    parts.push({ text: text.slice(s, e), hit: true });
    last = e;
  }
  if (last < text.length) parts.push({ text: text.slice(last), hit: false });
  return parts.length > 0 ? parts : [{ text, hit: false }];
}

const RUN_HEAD = new RegExp(`^${RUN_CHAR}`, 'u');
const EMOJI_HEAD = /^(?:\p{RI}|\p{Extended_Pictographic})/u;

/**
 * How the index files one of its terms (`terms` output): a `word` goes to the dictionary that prefix and
 * typo lookups search; a `run` term (a pair or single character) is filed under its first character, for
 * one-character queries; an `emoji` is only ever looked up whole.
 */
export function termClass(term: string): 'word' | 'run' | 'emoji' {
  if (RUN_HEAD.test(term)) return 'run';
  return EMOJI_HEAD.test(term) ? 'emoji' : 'word';
}

/** The first character (code point) of `term`. */
export function firstChar(term: string): string {
  const c = term.codePointAt(0);
  return c === undefined ? '' : term.slice(0, c > 0xffff ? 2 : 1);
}
