/**
 * One-line text for a message outside its conversation: the conversation-list preview, the in-app toast and
 * the system notification. A message may have no text (files only) or be deleted; both still need words, so
 * the row never reads "You:" alone. Pure functions over what the message already holds: an attachment's
 * name, type and thumbnail are in its decrypted `FileRef`, so nothing is downloaded to describe it.
 */
import type { Attachment } from '@parley/shared/envelope';
import { PREVIEWABLE_TYPES, THUMB_TYPES } from './files/thumbnails.ts';

/** What a preview reads from a message (a `ConversationMessage` fits). */
export interface PreviewableMessage {
  text: string;
  attachments: readonly Attachment[];
  deleted: boolean;
}

/** Who wrote the previewed message, as the conversation list names them. */
export type PreviewAuthor = { kind: 'me' } | { kind: 'peer' } | { kind: 'member'; name: string };

/** Short preview text (one line, at most `max` characters). */
export function preview(text: string, max = 80): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  // Cut between user-perceived characters, never inside an emoji or a letter with its marks.
  let out = '';
  for (const { segment } of graphemes.segment(one)) {
    if (out.length + segment.length > max - 1) break;
    out += segment;
  }
  return `${out}…`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Whether an attachment is a picture the chat shows inline (the same rule as the message bubble: a thumbnail
 * of a previewable raster type). Other images (too large to thumbnail, SVG) show as file cards, so they are
 * called by their file name here too.
 */
export function isPictureAttachment(a: Attachment): boolean {
  return a.thumb !== undefined && PREVIEWABLE_TYPES.has(a.file.type) && THUMB_TYPES.has(a.thumb.type);
}

/**
 * Words for a message's files: "🖼 Photo" / "🖼 3 photos" when all are pictures, "📎 report.pdf" for one other
 * file, "📎 3 files" otherwise; "" without files. The file name is the sender's (display only).
 */
export function attachmentSummary(attachments: readonly Attachment[]): string {
  const n = attachments.length;
  const [first] = attachments;
  if (!first) return '';
  if (attachments.every(isPictureAttachment)) return n === 1 ? '🖼 Photo' : `🖼 ${n} photos`;
  return n === 1 ? `📎 ${first.file.name}` : `📎 ${n} files`;
}

/**
 * The content of a message in one line of at most `max` characters: its text when it has any (files or
 * not), else `attachmentSummary`, else "" (a deleted message has neither; see `listPreview`).
 */
export function contentPreview(m: Pick<PreviewableMessage, 'text' | 'attachments'>, max = 80): string {
  return preview(m.text.trim() ? m.text : attachmentSummary(m.attachments), max);
}

/**
 * The conversation-list line for the newest message: "You: …" for mine, "Name: …" for someone else's in a
 * group, the content alone for the other person's in a direct chat; a deleted message reads "You deleted a
 * message" / "Name deleted a message" / "Message deleted" (only its author can delete it).
 */
export function listPreview(m: PreviewableMessage, author: PreviewAuthor, max = 80): string {
  if (m.deleted) {
    if (author.kind === 'me') return 'You deleted a message';
    return author.kind === 'member' ? `${author.name} deleted a message` : 'Message deleted';
  }
  const who = author.kind === 'me' ? 'You: ' : author.kind === 'member' ? `${author.name}: ` : '';
  return who + contentPreview(m, max);
}
