/**
 * Names of the app's own records in the client core's sealed store, per conversation (the core's records are
 * the core's). One place, so deleting a conversation from the device ([ARCHIVE-1]) finds them all.
 */

/** The composer's unsent text (Composer.tsx). */
export function draftName(convId: string): string {
  return `draft/${convId}`;
}

/** Finished uploads staged in the composer (files/upload-queue.ts). */
export function stagedName(convId: string): string {
  return `staged/${convId}`;
}

/** Every app record of one conversation. */
export function conversationRecords(convId: string): string[] {
  return [draftName(convId), stagedName(convId)];
}
