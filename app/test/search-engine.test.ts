/**
 * The on-device search engine (app/src/search/engine.ts, with text.ts's folding and tokenising): the
 * product rules of message search (typos, accents, prefixes, filters, results that name the message; words
 * inside Chinese/Japanese/Korean/Thai runs, emoji, ß and other letters typed as plain Latin) and the index
 * bookkeeping (replace, remove, persistence), plus model tests of the top-k ranking and of run matching
 * against a linear scan.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_TERMS, MessageIndex, planQuery, transpositions, typoBudget, TYPO_FALLBACK_BELOW } from '../src/search/engine.ts';
import type { SearchDoc } from '../src/search/protocol.ts';
import { foldTerm, markTerms, queryTokens, terms } from '../src/search/text.ts';

const ANN = 'user-ann';
const BOB = 'user-bob';

function doc(id: string, text: string, over: Partial<SearchDoc> = {}): SearchDoc {
  return { id, convId: 'conv-1', author: ANN, ts: 1_700_000_000_000 + Number(id.replace(/\D/g, '') || 0), text, ...over };
}

function indexOf(docs: SearchDoc[]): MessageIndex {
  const index = new MessageIndex();
  index.addAll(docs);
  return index;
}

const ids = (index: MessageIndex, q: string, filters = {}, limit = 50) => index.search(q, filters, limit).hits.map((h) => h.id);

const chat = () =>
  indexOf([
    doc('m1', 'Meet me at the Café Noir on Friday'),
    doc('m2', 'The meeting moved to tomorrow', { author: BOB }),
    doc('m3', 'Her résumé is naïve about deployments', { convId: 'conv-2' }),
    doc('m4', 'filler message number four', { author: BOB, convId: 'conv-2' }),
    doc('m5', 'Invoice for the coffee order'),
  ]);

describe('search rules (issue 4)', () => {
  it('finds a word of five or more letters despite one typo: substitution, insertion, deletion, swap', () => {
    const index = chat();
    for (const q of ['meating', 'meetting', 'meetng', 'meetnig', 'tomorow', 'Firday']) {
      const out = index.search(q);
      expect(out.pass, q).toBe('typo');
      expect(out.hits.length, q).toBeGreaterThan(0);
    }
    expect(ids(index, 'meating')).toEqual(['m2']);
    expect(ids(index, 'Firday')).toEqual(['m1']);
    expect(ids(index, 'invioce')).toEqual(['m5']);
  });

  it('finds a swapped four-letter word next to an exact one ("Cafe Nior")', () => {
    expect(ids(chat(), 'Cafe Nior')).toEqual(['m1']);
  });

  it('does not guess typos in words under four letters', () => {
    const index = indexOf([doc('m1', 'the cat sat')]);
    expect(ids(index, 'cst')).toEqual([]);
    expect(ids(index, 'cat')).toEqual(['m1']);
  });

  it('is accent- and case-insensitive in both directions', () => {
    const index = chat();
    expect(ids(index, 'cafe')).toEqual(['m1']);
    expect(ids(index, 'CAFÉ noir')).toEqual(['m1']);
    expect(ids(index, 'resume naive')).toEqual(['m3']);
    const plain = indexOf([doc('m9', 'my resume is naive')]);
    expect(ids(plain, 'résumé NAÏVE')).toEqual(['m9']);
  });

  it('completes the last term as a prefix, and highlights the completed word', () => {
    const index = chat();
    const out = index.search('fri');
    expect(out.hits.map((h) => h.id)).toEqual(['m1']);
    expect(out.hits[0]!.terms).toEqual(['friday']);
    expect(ids(index, 'moved tomo')).toEqual(['m2']);
    expect(ids(index, 'depl')).toEqual(['m3']);
  });

  it('treats a finished last word (trailing space) as a whole word in the exact pass', () => {
    const toms = Array.from({ length: 12 }, (_, i) => doc(`m${i}`, `tom says hi ${i}`));
    const tomorrows = Array.from({ length: 12 }, (_, i) => doc(`m${100 + i}`, `tomorrow plan ${i}`));
    const index = indexOf([...toms, ...tomorrows]);
    expect(index.search('tom').total).toBe(24);
    const finished = index.search('tom ');
    expect(finished.pass).toBe('exact');
    expect(finished.total).toBe(12);
  });

  it('runs the typo pass only when the exact pass finds too few messages', () => {
    const many = Array.from({ length: TYPO_FALLBACK_BELOW }, (_, i) => doc(`m${i}`, `deploy number ${i}`));
    const index = indexOf([...many, doc('m50', 'deplyo typo')]);
    const out = index.search('deploy ');
    expect(out.pass).toBe('exact');
    expect(out.total).toBe(TYPO_FALLBACK_BELOW);
    expect(out.hits.map((h) => h.id)).not.toContain('m50');
    // With fewer exact matches the typo pass adds the misspelt one, ranked after the exact ones.
    index.remove('conv-1', 'm0');
    const fewer = index.search('deploy ');
    expect(fewer.pass).toBe('typo');
    expect(fewer.hits.map((h) => h.id)).toContain('m50');
    expect(fewer.hits.at(-1)!.id).toBe('m50');
  });

  it('filters by conversation and by sender, excluding everyone else', () => {
    const index = chat();
    expect(ids(index, 'the').sort()).toEqual(['m1', 'm2', 'm5']);
    expect(ids(index, 'the', { author: BOB })).toEqual(['m2']);
    expect(ids(index, 'the', { author: ANN }).sort()).toEqual(['m1', 'm5']);
    expect(ids(index, 'the', { convId: 'conv-2' })).toEqual([]);
    expect(ids(index, 'number', { convId: 'conv-2', author: ANN })).toEqual([]);
    expect(ids(index, 'number', { convId: 'conv-2', author: BOB })).toEqual(['m4']);
    // Filters apply to the typo pass too.
    expect(ids(index, 'meating', { author: ANN })).toEqual([]);
  });

  it('returns what the UI needs to jump to the message', () => {
    const [hit] = chat().search('noir').hits;
    expect(hit).toMatchObject({ id: 'm1', convId: 'conv-1', author: ANN, text: 'Meet me at the Café Noir on Friday', terms: ['noir'] });
    expect(hit!.score).toBeGreaterThan(0);
  });

  it('ranks exact words above completions and typos, and the newest first on ties', () => {
    const index = indexOf([doc('m1', 'noirs'), doc('m2', 'noir'), doc('m3', 'noir'), doc('m4', 'nori')]);
    // Few exact matches, so the typo pass runs: the completion "noirs" and the swap "nori" come after.
    const out = index.search('noir');
    expect(out.pass).toBe('typo');
    expect(out.hits.map((h) => h.id)).toEqual(['m3', 'm2', 'm1', 'm4']);
  });

  it('ignores queries without words and never throws on odd input', () => {
    const index = chat();
    for (const q of ['', '   ', '!!!', '#', '\u0301']) expect(index.search(q)).toEqual({ hits: [], total: 0, pass: 'none' });
    for (const q of ['a', '💥', 'x'.repeat(500), 'é'.repeat(50), '\u0000']) expect(() => index.search(q)).not.toThrow();
  });
});

describe('words in every script', () => {
  const runs = () =>
    indexOf([
      doc('m1', '我们明天去北京吃烤鸭'),
      doc('m2', '北京大学很有名'),
      doc('m3', '我在京都'),
      doc('m4', 'コーヒーを飲みました！'),
      doc('m5', '한국어를 배워요'),
      doc('m6', 'ภาษาไทยง่ายมาก'),
      doc('m7', '北京的大学'),
    ]);

  it('finds a Chinese word inside a run written without spaces, not only the run or its beginning', () => {
    const index = runs();
    expect(ids(index, '北京').sort()).toEqual(['m1', 'm2', 'm7']);
    expect(ids(index, '烤鸭')).toEqual(['m1']);
    expect(ids(index, '明天去')).toEqual(['m1']);
    expect(ids(index, '我们明天去北京吃烤鸭')).toEqual(['m1']);
    expect(ids(index, '北京 烤鸭')).toEqual(['m1']);
  });

  it('requires every character pair of a longer query, like words (AND)', () => {
    const index = runs();
    // "北京大学" needs 北京, 京大 and 大学 next to each other: "北京的大学" has the words but not 京大.
    expect(ids(index, '北京大学')).toEqual(['m2']);
    expect(ids(index, '北京烤鸭')).toEqual([]);
    expect(ids(index, '北京 大学').sort()).toEqual(['m2', 'm7']);
  });

  it('finds a one-character query anywhere in a run, its last character included, and marks just that character', () => {
    const index = runs();
    expect(ids(index, '京').sort()).toEqual(['m1', 'm2', 'm3', 'm7']);
    expect(ids(index, '鸭')).toEqual(['m1']);
    expect(ids(index, '名')).toEqual(['m2']);
    const hit = index.search('鸭').hits[0]!;
    expect(hit.terms).toEqual(['鸭']);
    expect(markTerms(hit.text, hit.terms)).toEqual([
      { text: '我们明天去北京吃烤', hit: false },
      { text: '鸭', hit: true },
    ]);
    // A character counts once per occurrence however many pairs it starts: the message using it twice ranks first.
    const twice = indexOf([doc('m1', '京都的京菜'), doc('m2', '去京都')]);
    expect(ids(twice, '京')).toEqual(['m1', 'm2']);
  });

  it('splits Japanese, Korean and Thai runs the same way, keeping voiced kana and Hangul syllables whole', () => {
    const index = runs();
    expect(ids(index, 'ヒー')).toEqual(['m4']);
    expect(ids(index, '飲み')).toEqual(['m4']);
    expect(ids(index, '국어')).toEqual(['m5']);
    expect(ids(index, '배')).toEqual(['m5']);
    expect(ids(index, 'ไทย')).toEqual(['m6']);
    expect(foldTerm('がっこう')).toBe('がっこう');
    expect(ids(indexOf([doc('m1', 'がっこうへ')]), 'かっこう')).toEqual([]);
    expect(foldTerm('한국어')).toBe('한국어');
    // Half-width katakana and full-width Latin fold to their usual forms (NFKD).
    expect(foldTerm('ｺｰﾋｰ ＡＢＣ１')).toBe('コーヒー abc1');
    expect(ids(index, 'ｺｰﾋｰ')).toEqual(['m4']);
  });

  it('keeps separate tokens for a Latin word inside a run, and for the run around it', () => {
    expect(terms('用iPhone拍的')).toEqual(['用', 'iphone', '拍的', '的']);
    const index = indexOf([doc('m1', '我用iPhone拍的照片')]);
    expect(ids(index, 'iphone')).toEqual(['m1']);
    expect(ids(index, 'ipho')).toEqual(['m1']);
    expect(ids(index, '照片')).toEqual(['m1']);
  });

  it('finds letters that NFKD keeps (ß, æ, œ, ø, ł, đ…) by their plain Latin spelling, both ways', () => {
    const index = indexOf([
      doc('m1', 'Die Straße ist groß'),
      doc('m2', 'Æsir and the Œuvre'),
      doc('m3', 'Søren from Łódź met Đorđe'),
      doc('m4', 'we met at the STRASSE cafe'),
    ]);
    expect(ids(index, 'strasse').sort()).toEqual(['m1', 'm4']);
    expect(ids(index, 'gross')).toEqual(['m1']);
    expect(ids(index, 'Straße ').sort()).toEqual(['m1', 'm4']);
    expect(ids(index, 'aesir oeuvre')).toEqual(['m2']);
    expect(ids(index, 'soren lodz dorde')).toEqual(['m3']);
    expect(foldTerm('ẞ Æ Œ Ø Ł Đ Ð Þ ı ς İ')).toBe('ss ae oe o l d d th i σ i');
  });

  it('finds an emoji on its own, with or without skin tone or variation selector, and flags', () => {
    const index = indexOf([doc('m1', 'party time 🎉🎉'), doc('m2', 'great 👍🏽'), doc('m3', 'love ❤️ it'), doc('m4', '🇩🇪 won'), doc('m5', 'family 👨‍👩‍👧')]);
    expect(ids(index, '🎉')).toEqual(['m1']);
    expect(ids(index, 'party 🎉')).toEqual(['m1']);
    expect(ids(index, '👍')).toEqual(['m2']);
    expect(ids(index, '👍🏿')).toEqual(['m2']);
    expect(ids(index, '❤')).toEqual(['m3']);
    expect(ids(index, '❤️')).toEqual(['m3']);
    expect(ids(index, '🇩🇪')).toEqual(['m4']);
    expect(ids(index, '👩')).toEqual(['m5']);
    expect(ids(index, '🇫🇷')).toEqual([]);
    // Emoji never match a word, a prefix or a typo.
    expect(ids(index, 'great')).toEqual(['m2']);
    expect(queryTokens('🎉 ok')).toEqual([
      { term: '🎉', kind: 'emoji' },
      { term: 'ok', kind: 'word' },
    ]);
  });

  it('marks matched words, pairs and whole emoji sequences in the original text', () => {
    const show = (text: string, t: string[]) => markTerms(text, t).map((p) => (p.hit ? `[${p.text}]` : p.text)).join('');
    // Touching or overlapping marks join into one.
    expect(show('我们明天去北京吃烤鸭', ['北京', '吃烤', '烤鸭'])).toBe('我们明天去[北京吃烤鸭]');
    expect(show('我们明天去北京吃烤鸭', ['明天', '烤鸭'])).toBe('我们[明天]去北京吃[烤鸭]');
    expect(show('Die Straße ist groß', ['strasse'])).toBe('Die [Straße] ist groß');
    expect(show('Cafe\u0301 noir', ['cafe'])).toBe('[Cafe\u0301] noir');
    expect(show('ｶﾞｲﾄﾞ', ['ガイ'])).toBe('[ｶﾞｲ]ﾄﾞ');
    expect(show('great 👍🏽!', ['👍'])).toBe('great [👍🏽]!');
    expect(show('family 👨‍👩‍👧 photo', ['👩', 'photo'])).toBe('family [👨‍👩‍👧] [photo]');
    expect(show('nothing here', [])).toBe('nothing here');
  });

  it('never throws on any text; every hit has a mark, and the marks join back into the original text', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.constantFrom('北京', '京', 'ß', 'Straße', '👍🏽', '👨‍👩‍👧', '🇩🇪', '\u0301', '\u200d', 'ｶﾞ', '한', '\ud800', ' ', '，'),
    );
    const text = fc.array(piece, { maxLength: 8 }).map((ps) => ps.join(''));
    fc.assert(
      fc.property(text, text, (t, q) => {
        const index = indexOf([doc('m1', t)]);
        const out = index.search(q);
        for (const hit of out.hits) {
          const parts = markTerms(hit.text, hit.terms);
          expect(parts.map((p) => p.text).join('')).toBe(hit.text);
          expect(parts.some((p) => p.hit)).toBe(true);
        }
        expect(markTerms(t, queryTokens(q).map((k) => k.term)).map((p) => p.text).join('')).toBe(t);
        // Whatever a message contains, searching for the message's own text finds it.
        if (queryTokens(t).length > 0) expect(ids(index, t, {}, 10)).toEqual(['m1']);
      }),
      { numRuns: 100 },
    );
  });

  it('re-splits a stored format-2 index with the current rules when it is loaded', () => {
    // Written before runs, emoji and ß were tokenised: the rows hold only texts, so loading applies today's rules.
    const stored = {
      v: 2,
      rows: [
        ['m1', 'conv-1', ANN, 1, '我们明天去北京吃烤鸭'],
        ['m2', 'conv-1', BOB, 2, 'Die Straße 🎉'],
      ],
    };
    const index = MessageIndex.fromJSON(stored)!;
    expect(ids(index, '北京')).toEqual(['m1']);
    expect(ids(index, 'strasse')).toEqual(['m2']);
    expect(ids(index, '🎉')).toEqual(['m2']);
  });

  it('matches runs like a substring scan (model test): exactly for 1–2 characters, between pairs and substring for longer', () => {
    const CHARS = ['北', '京', '大', '学', '我', '们', '，', ' '];
    const text = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));
    const query = fc.array(fc.constantFrom(...CHARS.slice(0, 6)), { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 30 }), query, (texts, q) => {
        const index = indexOf(texts.map((t, i) => doc(`m${i}`, t)));
        const found = ids(index, q, {}, 1000).sort();
        const having = (s: string) => texts.flatMap((t, i) => (t.includes(s) ? [`m${i}`] : [])).sort();
        if (q.length <= 2) {
          expect(found).toEqual(having(q));
          return;
        }
        const pairs = [...q].slice(1).map((c, i) => q[i]! + c);
        const allPairs = texts.flatMap((t, i) => (pairs.every((p) => t.includes(p)) ? [`m${i}`] : [])).sort();
        expect(found).toEqual(allPairs);
        for (const id of having(q)) expect(found).toContain(id);
      }),
      { numRuns: 300 },
    );
  });
});

describe('query planning', () => {
  it('gives typo budgets by length and lists swapped spellings', () => {
    expect([1, 3, 4, 7, 8, 12].map((n) => typoBudget('x'.repeat(n)))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(transpositions('nior').sort()).toEqual(['inor', 'niro', 'noir']);
    expect(transpositions('aab')).toEqual(['aba']);
    expect(terms('Café—NOIR, on Friday!')).toEqual(['cafe', 'noir', 'on', 'friday']);
    expect(terms('tab\tseparated\nlines')).toEqual(['tab', 'separated', 'lines']);
  });

  it('prefixes only the last term in the exact pass, and skips a typo pass that would add nothing', () => {
    const plan = planQuery('cafe no')!;
    expect(plan.exact.map((t) => t.prefix)).toEqual([false, true]);
    expect(plan.typo!.map((t) => [t.prefix, t.typos])).toEqual([
      [true, 1],
      [true, 0],
    ]);
    expect(planQuery('ab')!.typo).toBeNull();
    expect(planQuery('  ')).toBeNull();
    // A two-letter earlier word stays whole even in the typo pass; at most MAX_QUERY_TERMS distinct words.
    expect(planQuery('ka lo')!.typo).toBeNull();
    expect(planQuery('kal lo')!.typo!.map((t) => t.prefix)).toEqual([true, true]);
    expect(planQuery('one two three four five six seven eight nine ten one')!.exact.map((t) => t.term)).toHaveLength(MAX_QUERY_TERMS);
  });

  it('looks up character pairs and emoji whole, a lone run character by the pairs it starts, and widens only words', () => {
    const plan = planQuery('北京烤鸭 🎉 京 deplo')!;
    expect(plan.exact.map((t) => [t.term, t.kind, t.prefix, t.typos])).toEqual([
      ['北京', 'pair', false, 0],
      ['京烤', 'pair', false, 0],
      ['烤鸭', 'pair', false, 0],
      ['🎉', 'emoji', false, 0],
      ['京', 'char', true, 0],
      ['deplo', 'word', true, 0],
    ]);
    expect(plan.typo!.map((t) => [t.term, t.prefix, t.typos]).at(-1)).toEqual(['deplo', true, 1]);
    expect(planQuery('北京')!.typo).toBeNull();
    // A pair at the end of a query is not a prefix: the index holds whole pairs.
    expect(planQuery('烤鸭')!.exact[0]!.prefix).toBe(false);
  });
});

describe('index bookkeeping', () => {
  it('replaces a message added again under the same id, and forgets removed ones', () => {
    const index = chat();
    index.add(doc('m1', 'Meet me at the Blue Door instead'));
    expect(index.documentCount).toBe(5);
    expect(ids(index, 'noir ')).toEqual([]);
    expect(ids(index, 'blue door')).toEqual(['m1']);
    expect(index.remove('conv-1', 'm1')).toBe(true);
    expect(index.remove('conv-1', 'm1')).toBe(false);
    expect(ids(index, 'blue')).toEqual([]);
    expect(index.has('conv-1', 'm1')).toBe(false);
    expect(index.documentCount).toBe(4);
  });

  it('keys messages by conversation and id: the same id in two conversations is two messages', () => {
    // Message ids count per conversation, so one device's first message has the same id everywhere.
    const index = indexOf([doc('d1:1', 'Welcome to the group', { convId: 'group' }), doc('d1:1', 'Hi Cat, unread so far', { convId: 'direct' })]);
    expect(index.documentCount).toBe(2);
    expect(index.search('welcome').hits.map((h) => [h.convId, h.id])).toEqual([['group', 'd1:1']]);
    expect(index.search('unread').hits.map((h) => [h.convId, h.id])).toEqual([['direct', 'd1:1']]);
    expect(index.remove('group', 'd1:1')).toBe(true);
    expect(index.get('direct', 'd1:1')?.text).toBe('Hi Cat, unread so far');
    const back = MessageIndex.fromJSON(JSON.parse(JSON.stringify(indexOf([doc('x', 'one', { convId: 'A' }), doc('x', 'two', { convId: 'B' })]))));
    expect(back?.documentCount).toBe(2);
  });

  it('removes a whole conversation (deleted from the device) and keeps the others', () => {
    const index = indexOf([doc('a1', 'lunch at noon', { convId: 'A' }), doc('b1', 'lunch on Friday', { convId: 'B' }), doc('a2', 'noon works', { convId: 'A' })]);
    expect(index.removeConversation('A')).toBe(2);
    expect(index.removeConversation('A')).toBe(0);
    expect(ids(index, 'lunch')).toEqual(['b1']);
    expect(ids(index, 'noon')).toEqual([]);
    expect(index.documentCount).toBe(1);
  });

  it('forgets removed pairs, characters and emoji, one-character lookups included, across compaction', () => {
    const index = indexOf([doc('m1', '北京烤鸭 🎉'), doc('m2', '北京大学')]);
    index.remove('conv-1', 'm1');
    expect(ids(index, '烤')).toEqual([]);
    expect(ids(index, '鸭')).toEqual([]);
    expect(ids(index, '🎉')).toEqual([]);
    expect(ids(index, '北')).toEqual(['m2']);
    const many = indexOf(Array.from({ length: 3000 }, (_, i) => doc(`m${i}`, i % 2 === 0 ? `北京${i}` : `上海${i}`)));
    for (let i = 0; i < 2500; i++) many.remove('conv-1', `m${i}`);
    expect(many.search('京', {}, 1000).total).toBe(250);
    expect(many.search('上海', {}, 1000).total).toBe(250);
    expect(ids(many, '海')).toHaveLength(50);
  });

  it('keeps answering correctly across compaction after many removals', () => {
    const index = indexOf(Array.from({ length: 3000 }, (_, i) => doc(`m${i}`, i % 2 === 0 ? `even word${i}` : `odd word${i}`)));
    for (let i = 0; i < 2500; i++) index.remove('conv-1', `m${i}`);
    expect(index.documentCount).toBe(500);
    expect(index.search('even', {}, 1000).total).toBe(250);
    expect(ids(index, 'word2999 ')[0]).toBe('m2999');
    expect(ids(index, 'word10 ', {}, 1000)).not.toContain('m10');
    expect(index.get('conv-1', 'm10')).toBeUndefined();
    expect(index.get('conv-1', 'm2999')?.text).toBe('odd word2999');
  });

  it('round-trips through JSON and refuses anything that is not a format-2 index', () => {
    const index = chat();
    const back = MessageIndex.fromJSON(JSON.parse(JSON.stringify(index)))!;
    expect(back.documentCount).toBe(5);
    for (const q of ['cafe nior', 'fri', 'the', 'meating']) expect(back.search(q)).toEqual(index.search(q));
    for (const bad of [null, {}, { v: 1, rows: [] }, { v: 2, rows: [['id', 'c', 'a', 'not a number', 't']] }, { v: 2, rows: [], extra: 1 }])
      expect(MessageIndex.fromJSON(bad)).toBeNull();
  });
});

describe('top-k ranking (model test against a full scan)', () => {
  const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];
  it('returns exactly the messages containing every query word, best `limit` first, consistent with a larger limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 60 }),
        fc.uniqueArray(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 1, max: 10 }),
        (texts, query, limit) => {
          const index = indexOf(texts.map((t, i) => doc(`m${i}`, t.join(' '), { author: i % 2 ? BOB : ANN })));
          const q = `${query.join(' ')} `; // finished words: no prefix (WORDS are ≥ 2 edits apart, so typos add nothing)
          const expected = texts.flatMap((t, i) => (query.every((w) => t.includes(w)) ? [`m${i}`] : []));
          const all = index.search(q, {}, 1000);
          expect(all.hits.map((h) => h.id).sort()).toEqual(expected.sort());
          expect(all.total).toBe(expected.length);
          const top = index.search(q, {}, limit);
          expect(top.hits.map((h) => h.id)).toEqual(all.hits.slice(0, limit).map((h) => h.id));
          const scores = all.hits.map((h) => h.score);
          expect(scores).toEqual([...scores].sort((a, b) => b - a));
        },
      ),
      { numRuns: 200 },
    );
  });
});
