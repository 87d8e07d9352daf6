/**
 * One-line message previews (app/src/chat/message-preview.ts): the conversation-list line, the toast and the
 * system notification must say something for a message with files and no text, and for a deleted message.
 */
import { describe, expect, it } from 'vitest';
import type { Attachment } from '@parley/shared/envelope';
import { attachmentSummary, contentPreview, isPictureAttachment, listPreview, preview } from '../src/chat/message-preview.ts';

const KEY = 'A'.repeat(43);
const ref = (name: string, type: string, size = 1000) => ({ v: 1 as const, blobId: '0f0e0d0c-0b0a-4908-8706-050403020100', key: KEY, name, type, size, sha256: KEY });
const file = (name: string, type = 'application/pdf'): Attachment => ({ file: ref(name, type) });
const photo = (name = 'IMG_0001.jpg', type = 'image/jpeg'): Attachment => ({ file: ref(name, type), thumb: ref('thumb.webp', 'image/webp', 100), width: 4000, height: 3000 });
const msg = (text: string, attachments: Attachment[] = [], deleted = false) => ({ text, attachments, deleted });

describe('attachmentSummary', () => {
  it('names a single file, counts several, and calls inline pictures photos', () => {
    expect(attachmentSummary([])).toBe('');
    expect(attachmentSummary([file('report.pdf')])).toBe('📎 report.pdf');
    expect(attachmentSummary([file('a.pdf'), file('b.txt', 'text/plain'), file('c.zip')])).toBe('📎 3 files');
    expect(attachmentSummary([photo()])).toBe('🖼 Photo');
    expect(attachmentSummary([photo(), photo('b.png', 'image/png')])).toBe('🖼 2 photos');
    expect(attachmentSummary([photo(), file('report.pdf')])).toBe('📎 2 files');
  });

  it('calls an image without a thumbnail (shown as a file card) by its file name', () => {
    const big: Attachment = { file: ref('huge.png', 'image/png'), width: 12000, height: 12000 };
    expect(isPictureAttachment(big)).toBe(false);
    expect(attachmentSummary([big])).toBe('📎 huge.png');
    const svg: Attachment = { file: ref('logo.svg', 'image/svg+xml'), thumb: ref('t.png', 'image/png') };
    expect(attachmentSummary([svg])).toBe('📎 logo.svg');
  });
});

describe('contentPreview (toast and notification body)', () => {
  it('shows the text when there is any, with or without files', () => {
    expect(contentPreview(msg('Here you go', [file('report.pdf')]))).toBe('Here you go');
    expect(contentPreview(msg('  two\n lines  '))).toBe('two lines');
  });

  it('describes the files when the text is empty or blank', () => {
    expect(contentPreview(msg('', [file('report.pdf')]))).toBe('📎 report.pdf');
    expect(contentPreview(msg(' \n', [photo()]))).toBe('🖼 Photo');
  });

  it('keeps to the length limit, long file names included', () => {
    const out = contentPreview(msg('', [file(`${'x'.repeat(200)}.pdf`)]), 60);
    expect([...out].length).toBeLessThanOrEqual(60);
    expect(out.startsWith('📎 xxx')).toBe(true);
    expect(out.endsWith('…')).toBe(true);
    expect(preview('abcdef', 4)).toBe('abc…');
  });

  it('never cuts inside an emoji or a letter with its marks', () => {
    const family = '👨‍👩‍👧‍👦'; // 11 UTF-16 units, one character
    const out = preview(`${'a'.repeat(75)}${family}${family}`, 80);
    expect(out).toBe(`${'a'.repeat(75)}…`);
    expect(preview(`${'a'.repeat(70)}${family} end`, 80)).toBe(`${'a'.repeat(70)}…`);
    expect(preview(`${'a'.repeat(60)}${family}${'b'.repeat(30)}`, 80)).toBe(`${'a'.repeat(60)}${family}${'b'.repeat(8)}…`);
    expect(preview('e\u0301'.repeat(50), 9)).toBe('e\u0301'.repeat(4) + '…');
  });
});

describe('listPreview (conversation list)', () => {
  it('prefixes the author as before for text', () => {
    expect(listPreview(msg('Hi'), { kind: 'me' })).toBe('You: Hi');
    expect(listPreview(msg('Hi'), { kind: 'peer' })).toBe('Hi');
    expect(listPreview(msg('Hi'), { kind: 'member', name: 'Cat' })).toBe('Cat: Hi');
  });

  it('is never just "You:" or blank for a message with files only', () => {
    expect(listPreview(msg('', [file('report.pdf')]), { kind: 'me' })).toBe('You: 📎 report.pdf');
    expect(listPreview(msg('', [photo()]), { kind: 'peer' })).toBe('🖼 Photo');
    expect(listPreview(msg('', [file('a'), file('b'), file('c')]), { kind: 'member', name: 'Cat' })).toBe('Cat: 📎 3 files');
  });

  it('says a deleted message was deleted, and by whom', () => {
    expect(listPreview(msg('', [], true), { kind: 'me' })).toBe('You deleted a message');
    expect(listPreview(msg('', [], true), { kind: 'peer' })).toBe('Message deleted');
    expect(listPreview(msg('', [], true), { kind: 'member', name: 'Cat' })).toBe('Cat deleted a message');
  });
});
