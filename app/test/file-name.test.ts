/**
 * File names split for display (app/src/chat/files/file-name.ts): on a narrow screen only the stem is cut, so
 * the extension must come out whole, and `stem + ext` must always give back the name unchanged.
 */
import { describe, expect, it } from 'vitest';
import { splitFileName } from '../src/chat/files/file-name.ts';

describe('splitFileName', () => {
  it('keeps the last short extension apart from the stem', () => {
    expect(splitFileName('qa-fake-document-with-a-long-name.pdf')).toEqual({ stem: 'qa-fake-document-with-a-long-name', ext: '.pdf' });
    expect(splitFileName('report.final.v2.docx')).toEqual({ stem: 'report.final.v2', ext: '.docx' });
    expect(splitFileName('IMG_0001.JPG')).toEqual({ stem: 'IMG_0001', ext: '.JPG' });
  });

  it('keeps ".tar" with a compression extension', () => {
    expect(splitFileName('backup-2024.tar.gz')).toEqual({ stem: 'backup-2024', ext: '.tar.gz' });
  });

  it('has no extension for dotfiles, names without a dot, a trailing dot, or a long or non-ASCII suffix', () => {
    for (const name of ['.env', 'README', 'notes.', 'a.verylongsuffix', 'café.naïve', '...', '', 'x. pdf']) {
      expect(splitFileName(name)).toEqual({ stem: name, ext: '' });
    }
  });

  it('never takes the whole name as the extension (a blank stem stays whole)', () => {
    expect(splitFileName(' .pdf')).toEqual({ stem: ' .pdf', ext: '' });
    expect(splitFileName('..env')).toEqual({ stem: '.', ext: '.env' });
  });

  it('gives back the name exactly', () => {
    for (const name of ['a.b.c', 'line\nbreak.txt', '😀.png', 'x.tar', 'archive.tar.zst', 'v1.2.3']) {
      const { stem, ext } = splitFileName(name);
      expect(stem + ext).toBe(name);
    }
  });
});
