/**
 * The message search engine, in one module that the search worker runs and the benchmark
 * (bench/scenarios/search.ts, scenario e) measures, so the figures there are the app's. Pure: no DOM, no
 * IndexedDB, no worker globals.
 *
 * Structure: MiniSearch's `SearchableMap` (a radix tree) is the dictionary of words, for prefix and
 * edit-distance lookups; every term (word, character pair, emoji) points at a posting list (message numbers
 * and term counts in plain arrays). Pairs and single characters of runs are not in the radix tree but
 * filed by their first character (a radix node scans its children one by one, and thousands of distinct
 * first characters made indexing Chinese text several times slower); emoji are only looked up whole.
 *
 * Ranking is BM25 over the matched terms, with prefix and typo matches weighted below exact ones, newest
 * first on ties; only the best `limit` are kept (a small heap), so a word found in 30,000 messages costs a
 * pass over its posting list, not 30,000 result objects and a sort. (MiniSearch's own `search()`
 * builds and sorts an object per match, and expanded every term by prefix and edit distance: tens of ms for
 * such queries on 100,000 messages in scenario e, which is what kept its p95 above 5 ms.)
 *
 * What a term is (words; character pairs of Chinese, Japanese, Korean, Thai… text; emoji) and how text is
 * folded is text.ts's business: the index stores `terms(text)`, a query looks up `queryTokens(q)`.
 *
 * Query plan:
 *
 * 1. Exact pass. Every term must match (AND). Earlier words match whole words; the last word, the one being
 *    typed, also matches as a prefix once it has `MIN_PREFIX_LENGTH` letters (unless the query ends with a
 *    space: then it is finished too). A character pair or an emoji matches only itself; a lone character of
 *    a run written without spaces (a `char` term) matches every indexed pair it starts, at full weight, so
 *    it finds the character anywhere in a run.
 * 2. Typo pass, only when the exact pass finds fewer than `TYPO_FALLBACK_BELOW` hits (or fewer than the
 *    limit, if that is smaller). Every word matches as a prefix (earlier words from
 *    `MIN_EARLIER_PREFIX_LENGTH` letters, the last from `MIN_PREFIX_LENGTH`), and every word of
 *    `MIN_TYPO_LENGTH`+ letters also within `typoBudget(term)` edits (Levenshtein), or with two
 *    neighbouring letters swapped ("nior" finds "noir"). Pairs, characters and emoji are looked up as in the
 *    exact pass. Its results replace the exact pass's (they include them, and exact matches still rank
 *    first).
 *
 * Only the first `MAX_QUERY_TERMS` distinct terms of a query are used (a pasted paragraph is not a search;
 * for a run, that is its first nine characters).
 *
 * Filters (conversation, sender) are checked when a message first becomes a candidate, so filtered-out
 * messages cost one comparison.
 */
import SearchableMap from 'minisearch/SearchableMap';
import { z } from 'zod';
import type { SearchDoc, SearchHit } from './protocol.ts';
import { firstChar, queryTokens, termClass, terms, type TokenKind } from './text.ts';

/** A term shorter than this (in UTF-16 units, after folding) never matches as a prefix. */
export const MIN_PREFIX_LENGTH = 2;
/** In the typo pass, an earlier (finished) term matches as a prefix only from this length: "ka" has thousands of completions. */
export const MIN_EARLIER_PREFIX_LENGTH = 3;
/** Words of a query beyond this many (distinct) are ignored. */
export const MAX_QUERY_TERMS = 8;
/** A term shorter than this gets no typo tolerance: 1–3 letter words have too many neighbours to be useful. */
export const MIN_TYPO_LENGTH = 4;
/** A term at least this long may be two edits away; shorter (but ≥ `MIN_TYPO_LENGTH`) ones one edit. */
export const TWO_TYPO_LENGTH = 8;
/** The typo pass runs only when the exact pass found fewer hits than this (or than the limit). */
export const TYPO_FALLBACK_BELOW = 10;
/** Score factor of a prefix completion (times len / (len + 0.3 · extra letters)). */
const PREFIX_WEIGHT = 0.5;
/** Score factor of a typo match (times len / (len + edits)); a swap counts as one edit. */
const TYPO_WEIGHT = 0.45;
/** BM25 parameters (the usual ones). */
const BM25_K = 1.2;
const BM25_B = 0.75;

/** The edit budget of a folded query term in the typo pass: 0 below 4 letters, 1 up to 7, 2 from 8. */
export function typoBudget(term: string): number {
  if (term.length < MIN_TYPO_LENGTH) return 0;
  return term.length < TWO_TYPO_LENGTH ? 1 : 2;
}

/** Every spelling of `term` with two neighbouring (different) letters swapped, without duplicates. */
export function transpositions(term: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 1 < term.length; i++) {
    if (term[i] === term[i + 1]) continue;
    out.add(term.slice(0, i) + term[i + 1]! + term[i]! + term.slice(i + 2));
  }
  return [...out];
}

/** How one query term is looked up. */
export interface TermPlan {
  term: string;
  /** Only a `word` gets prefix (by length) and typo matching; see the module comment for the others. */
  kind: TokenKind;
  /** For a `char`, always true: its matches are the pairs it starts. */
  prefix: boolean;
  /** Edit budget (0: exact spelling only). Swapped neighbours are tried whenever it is > 0. */
  typos: number;
}

/** The folded terms of a query and the lookups of each pass (`typo` is null when it would add nothing). */
export interface QueryPlan {
  exact: TermPlan[];
  typo: TermPlan[] | null;
}

/** Plans `q` (see the module comment); null when it has no searchable term. */
export function planQuery(q: string): QueryPlan | null {
  const seen = new Set<string>();
  const tokens = queryTokens(q)
    .filter(({ term }) => !seen.has(term) && seen.add(term))
    .slice(0, MAX_QUERY_TERMS);
  if (tokens.length === 0) return null;
  const typing = !/\s$/u.test(q);
  const last = tokens.length - 1;
  const other = (term: string, kind: TokenKind): TermPlan => ({ term, kind, prefix: kind === 'char', typos: 0 });
  const exact = tokens.map(({ term, kind }, i): TermPlan =>
    kind === 'word' ? { term, kind, prefix: typing && i === last && term.length >= MIN_PREFIX_LENGTH, typos: 0 } : other(term, kind),
  );
  const typo = tokens.map(({ term, kind }, i): TermPlan =>
    kind === 'word' ? { term, kind, prefix: term.length >= (i === last ? MIN_PREFIX_LENGTH : MIN_EARLIER_PREFIX_LENGTH), typos: typoBudget(term) } : other(term, kind),
  );
  const widened = typo.some((t, i) => t.typos > 0 || t.prefix !== exact[i]!.prefix);
  return { exact, typo: widened ? typo : null };
}

/** Search filters: only messages of this conversation and/or this sender. */
export interface SearchFilters {
  convId?: string;
  author?: string;
}

/** What `search` found. */
export interface SearchOutcome {
  /** The best `limit` hits, best first. */
  hits: SearchHit[];
  /** How many messages matched in all (after filters). */
  total: number;
  /** The pass whose results these are ('none' for a query without a searchable word). */
  pass: 'none' | 'exact' | 'typo';
}

/** One term's postings: message numbers (ascending, dead ones included until compaction) and counts. */
interface Posting {
  docs: number[];
  tfs: number[];
  /** Entries whose message is still alive (the document frequency used for scoring). */
  live: number;
}

/** A dictionary word matched by a query term, and how much a match through it counts. */
interface Expansion {
  word: string;
  posting: Posting;
  weight: number;
}

/**
 * The persisted form of an index (format 2): its messages as rows; the dictionary and postings are rebuilt
 * on load (derived data, and rebuilding is about as fast as parsing them would be). Because only the texts
 * are stored, a change to folding or tokenisation (text.ts) applies to a stored index on its next load and
 * needs no new format.
 */
export const PersistedIndex = z
  .object({ v: z.literal(2), rows: z.array(z.tuple([z.string(), z.string(), z.string(), z.number(), z.string()])) })
  .strict();
export type PersistedIndex = z.infer<typeof PersistedIndex>;
type Row = PersistedIndex['rows'][number];

/** A message's key in the index: its id is unique within its conversation only (a per-conversation counter). */
function docKey(convId: string, id: string): string {
  return `${convId}\u0000${id}`;
}

/**
 * An inverted index of messages (see the module comment). Not thread-safe; the worker owns one.
 * Adding a message with a known id (in the same conversation) replaces it.
 */
export class MessageIndex {
  /** Words only (see `termClass`). */
  private readonly dict = new SearchableMap<Posting>();
  /** Every term. */
  private readonly byWord = new Map<string, Posting>();
  /** Run terms (pairs, single characters) by their first character. */
  private readonly byFirst = new Map<string, Set<string>>();
  /** Doc number by `docKey(convId, id)`: message ids are unique within a conversation only. */
  private readonly byId = new Map<string, number>();
  private ids: string[] = [];
  private convIds: string[] = [];
  private authors: string[] = [];
  private tss: number[] = [];
  private texts: string[] = [];
  private lens: number[] = [];
  private alive: boolean[] = [];
  private totalLen = 0;
  private dead = 0;
  /** Per-query scratch, indexed by message number; reset after each pass for the messages it touched. */
  private score = new Float64Array(0);
  private stage = new Int32Array(0);

  /** Messages in the index. */
  get documentCount(): number {
    return this.byId.size;
  }

  /** Whether message `id` of conversation `convId` is indexed. */
  has(convId: string, id: string): boolean {
    return this.byId.has(docKey(convId, id));
  }

  /** The indexed message `id` of conversation `convId`, if any. */
  get(convId: string, id: string): SearchDoc | undefined {
    const d = this.byId.get(docKey(convId, id));
    if (d === undefined) return undefined;
    return { id, convId, author: this.authors[d]!, ts: this.tss[d]!, text: this.texts[d]! };
  }

  /** Indexes `doc`, replacing the message with the same id in the same conversation. */
  add(doc: SearchDoc): void {
    this.remove(doc.convId, doc.id);
    const d = this.ids.length;
    const words = terms(doc.text);
    this.ids.push(doc.id);
    this.convIds.push(doc.convId);
    this.authors.push(doc.author);
    this.tss.push(doc.ts);
    this.texts.push(doc.text);
    this.lens.push(words.length);
    this.alive.push(true);
    this.byId.set(docKey(doc.convId, doc.id), d);
    this.totalLen += words.length;
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    for (const [w, tf] of counts) {
      const p = this.byWord.get(w);
      if (p !== undefined) {
        p.docs.push(d);
        p.tfs.push(tf);
        p.live++;
        continue;
      }
      // Most terms occur once: exact-size arrays until they grow.
      const fresh: Posting = { docs: [d], tfs: [tf], live: 1 };
      this.byWord.set(w, fresh);
      const cls = termClass(w);
      if (cls === 'word') this.dict.set(w, fresh);
      else if (cls === 'run') {
        const head = firstChar(w);
        const set = this.byFirst.get(head);
        if (set) set.add(w);
        else this.byFirst.set(head, new Set([w]));
      }
    }
  }

  /** Indexes every doc of `docs` (same as `add` for each). */
  addAll(docs: Iterable<SearchDoc>): void {
    for (const doc of docs) this.add(doc);
  }

  /** Removes every message of a conversation; how many there were. */
  removeConversation(convId: string): number {
    let n = 0;
    for (const d of [...this.byId.values()]) if (this.convIds[d] === convId && this.remove(convId, this.ids[d]!)) n++;
    return n;
  }

  /** Removes message `id` of conversation `convId`; false when it was not indexed. */
  remove(convId: string, id: string): boolean {
    const key = docKey(convId, id);
    const d = this.byId.get(key);
    if (d === undefined) return false;
    this.byId.delete(key);
    this.alive[d] = false;
    this.totalLen -= this.lens[d]!;
    for (const w of new Set(terms(this.texts[d]!))) {
      const p = this.byWord.get(w);
      if (p === undefined) continue;
      p.live--;
      if (p.live === 0) {
        this.byWord.delete(w);
        const cls = termClass(w);
        if (cls === 'word') this.dict.delete(w);
        else if (cls === 'run') {
          const head = firstChar(w);
          const set = this.byFirst.get(head);
          set?.delete(w);
          if (set?.size === 0) this.byFirst.delete(head);
        }
      }
    }
    this.texts[d] = '';
    this.dead++;
    if (this.dead > 1000 && this.dead > this.byId.size) this.compact();
    return true;
  }

  /** Rebuilds without the removed messages (their entries stay in posting lists until then). */
  private compact(): void {
    const rows = this.rows();
    this.dict.clear();
    this.byWord.clear();
    this.byFirst.clear();
    this.byId.clear();
    this.ids = [];
    this.convIds = [];
    this.authors = [];
    this.tss = [];
    this.texts = [];
    this.lens = [];
    this.alive = [];
    this.totalLen = 0;
    this.dead = 0;
    for (const [id, convId, author, ts, text] of rows) this.add({ id, convId, author, ts, text });
  }

  private rows(): Row[] {
    const out: Row[] = [];
    for (const d of this.byId.values()) out.push([this.ids[d]!, this.convIds[d]!, this.authors[d]!, this.tss[d]!, this.texts[d]!]);
    return out;
  }

  /** The persisted form (`MessageIndex.fromJSON` reads it back). */
  toJSON(): PersistedIndex {
    return { v: 2, rows: this.rows() };
  }

  /** Rebuilds an index from `toJSON()` output; null when `data` is not a format-2 index. */
  static fromJSON(data: unknown): MessageIndex | null {
    const parsed = PersistedIndex.safeParse(data);
    if (!parsed.success) return null;
    const index = new MessageIndex();
    for (const [id, convId, author, ts, text] of parsed.data.rows) index.add({ id, convId, author, ts, text });
    return index;
  }

  /** The dictionary words one planned term matches, with their weights. */
  private expand(t: TermPlan, into: Expansion[]): void {
    const len = t.term.length;
    const seen = new Set<string>();
    const push = (word: string, posting: Posting, weight: number) => {
      if (seen.has(word) || posting.live === 0) return;
      seen.add(word);
      into.push({ word, posting, weight });
    };
    if (t.kind === 'char') {
      // The character itself (indexed where it ends a run) and every pair it starts: each is an
      // occurrence of the character, so all count fully.
      for (const word of this.byFirst.get(t.term) ?? []) {
        const posting = this.byWord.get(word);
        if (posting) push(word, posting, 1);
      }
      return;
    }
    const exact = this.byWord.get(t.term);
    if (exact) push(t.term, exact, 1);
    if (t.prefix) {
      for (const [word, posting] of this.dict.atPrefix(t.term)) {
        const extra = word.length - len;
        push(word, posting, (PREFIX_WEIGHT * word.length) / (word.length + 0.3 * extra));
      }
    }
    if (t.typos > 0) {
      const swaps = transpositions(t.term);
      for (const s of swaps) {
        const p = this.byWord.get(s);
        if (p) push(s, p, (TYPO_WEIGHT * len) / (len + 1));
        if (t.prefix) for (const [word, posting] of this.dict.atPrefix(s)) push(word, posting, (TYPO_WEIGHT * PREFIX_WEIGHT * word.length) / (word.length + 1 + 0.3 * (word.length - len)));
      }
      const fuzzy = this.dict.fuzzyGet(t.term, t.typos);
      for (const [word, [posting, edits]] of fuzzy) push(word, posting, (TYPO_WEIGHT * len) / (len + edits));
    }
  }

  /**
   * Runs one pass: messages matching every planned term (through any of its expansions) and `filters`;
   * returns the best `limit` message numbers, best first, the number of matches, and the matched words.
   */
  private pass(plan: readonly TermPlan[], filters: SearchFilters, limit: number): { top: number[]; scores: number[]; total: number; words: Set<string> } {
    const n = this.ids.length;
    if (this.score.length < n) {
      this.score = new Float64Array(Math.max(n, this.score.length * 2, 1024));
      this.stage = new Int32Array(this.score.length);
    }
    const score = this.score;
    const stage = this.stage;
    const live = this.byId.size;
    const avgLen = live > 0 ? this.totalLen / live : 1;
    const words = new Set<string>();
    // Expand every term; the most selective term goes first, so later ones only touch its candidates.
    const perTerm = plan.map((t) => {
      const ex: Expansion[] = [];
      this.expand(t, ex);
      let size = 0;
      for (const e of ex) size += e.posting.docs.length;
      return { t, ex, size };
    });
    perTerm.sort((a, b) => a.size - b.size);
    if (perTerm.length === 0 || perTerm[0]!.size === 0) return { top: [], scores: [], total: 0, words };
    const touched: number[] = [];
    const { convId, author } = filters;
    const filtered = convId !== undefined || author !== undefined;
    const alive = this.alive;
    const lens = this.lens;
    const idfOf = (df: number) => Math.log(1 + (live - df + 0.5) / (df + 0.5));
    for (let i = 0; i < perTerm.length; i++) {
      const { t, ex } = perTerm[i]!;
      // A completion or misspelling is rarer than the word itself, so its own idf would rank it above the
      // word; it gets at most the idf of the exact word (when that word is in the dictionary). A `char`
      // term's expansions are all the character: they share one idf, from about how many messages have it.
      let fixed: number | undefined;
      if (t.kind === 'char') {
        let df = 0;
        for (const e of ex) df += e.posting.live;
        fixed = idfOf(Math.min(df, live));
      }
      const exact = ex.find((e) => e.weight === 1);
      const cap = exact ? idfOf(exact.posting.live) : Infinity;
      let advanced = 0;
      for (const { word, posting, weight } of ex) {
        words.add(t.kind === 'char' ? t.term : word);
        const idf = fixed ?? Math.min(idfOf(posting.live), cap);
        const { docs, tfs } = posting;
        for (let k = 0; k < docs.length; k++) {
          const d = docs[k]!;
          const s = stage[d]!;
          if (s !== i && s !== i + 1) continue; // did not match an earlier term
          if (!alive[d]) continue;
          if (s === 0 && filtered && ((convId !== undefined && this.convIds[d] !== convId) || (author !== undefined && this.authors[d] !== author))) continue;
          const tf = tfs[k]!;
          const norm = tf + BM25_K * (1 - BM25_B + (BM25_B * lens[d]!) / avgLen);
          score[d] = score[d]! + weight * idf * ((tf * (BM25_K + 1)) / norm);
          if (s === i) {
            stage[d] = i + 1;
            advanced++;
            if (i === 0) touched.push(d);
          }
        }
      }
      if (advanced === 0) break; // no message matches every term so far: the rest cannot add any
    }
    const need = perTerm.length;
    // A min-heap of the best `limit` (by score, then newest) among full matches that pass the filters.
    const heap: number[] = [];
    const worse = (a: number, b: number) => score[a]! < score[b]! || (score[a] === score[b] && this.tss[a]! < this.tss[b]!);
    let total = 0;
    for (const d of touched) {
      const full = stage[d] === need;
      stage[d] = 0;
      if (!full) continue;
      total++;
      if (heap.length < limit) {
        heap.push(d);
        for (let c = heap.length - 1; c > 0; ) {
          const p = (c - 1) >> 1;
          if (!worse(heap[c]!, heap[p]!)) break;
          [heap[c], heap[p]] = [heap[p]!, heap[c]!];
          c = p;
        }
      } else if (limit > 0 && worse(heap[0]!, d)) {
        heap[0] = d;
        for (let p = 0; ; ) {
          const l = 2 * p + 1;
          const r = l + 1;
          let m = p;
          if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
          if (m === p) break;
          [heap[m], heap[p]] = [heap[p]!, heap[m]!];
          p = m;
        }
      }
    }
    const top = heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
    const scores = top.map((d) => score[d]!);
    for (const d of touched) score[d] = 0;
    return { top, scores, total, words };
  }

  /**
   * Runs `q` (see the module comment for the passes), keeping only messages that pass `filters`, and
   * returns at most `limit` hits, best first. Never throws for any query text.
   */
  search(q: string, filters: SearchFilters = {}, limit = 50): SearchOutcome {
    const plan = planQuery(q);
    if (plan === null || limit <= 0) return { hits: [], total: 0, pass: 'none' };
    let pass: SearchOutcome['pass'] = 'exact';
    let found = this.pass(plan.exact, filters, limit);
    if (plan.typo !== null && found.total < Math.min(limit, TYPO_FALLBACK_BELOW)) {
      found = this.pass(plan.typo, filters, limit);
      pass = 'typo';
    }
    // A `char` matched through pairs: the character itself is what to highlight.
    const chars = plan.exact.filter((t) => t.kind === 'char').map((t) => t.term);
    const hits = found.top.map((d, i): SearchHit => {
      const text = this.texts[d]!;
      return {
        id: this.ids[d]!,
        convId: this.convIds[d]!,
        author: this.authors[d]!,
        ts: this.tss[d]!,
        text,
        score: found.scores[i]!,
        terms: [...new Set([...terms(text).filter((w) => found.words.has(w)), ...chars])],
      };
    });
    return { hits, total: found.total, pass };
  }
}
