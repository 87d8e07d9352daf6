/**
 * "Your profile": display name, status line and avatar, end-to-end encrypted for your contacts
 * (`ParleyClient.setProfile`). The avatar is downscaled on the device (≤ 256 px, WebP or JPEG, ≤ 64 KiB)
 * before it is encrypted; the original file never leaves the page.
 */
import { createSignal, onCleanup, onMount, Show, type JSX } from 'solid-js';
import {
  isClientError,
  PROFILE_AVATAR_MAX_BYTES,
  PROFILE_DISPLAY_NAME_MAX,
  PROFILE_STATUS_MAX,
  sniffImageMime,
  type ProfileAvatar,
  type ProfileUpdate,
} from '@parley/shared/client';
import type { ChatStore } from './chat-store.ts';
import { Avatar } from './Avatar.tsx';
import { Modal } from './dialogs.tsx';
import { chatErrorText } from './notifications.ts';
import { FormError } from '../ui/FormError.tsx';
import { toast } from '../ui/toasts.tsx';

/** Longest avatar side, in pixels. */
export const AVATAR_SIDE = 256;

/** Thrown by `downscaleAvatar` with a user-facing message. */
class AvatarError extends Error {}

function canvasBlob(canvas: HTMLCanvasElement, type: string, quality: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/**
 * Decodes an image file and re-encodes it square-cropped to at most `AVATAR_SIDE` px, as WebP (JPEG where
 * the browser cannot encode WebP), lowering the quality until it fits `PROFILE_AVATAR_MAX_BYTES`.
 */
export async function downscaleAvatar(file: Blob): Promise<ProfileAvatar> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new AvatarError('That file is not an image this browser can read. Pick a PNG, JPEG or WebP picture.');
  }
  try {
    const side = Math.min(bitmap.width, bitmap.height);
    if (side < 1) throw new AvatarError('That image is empty.');
    const out = Math.min(AVATAR_SIDE, side);
    const canvas = document.createElement('canvas');
    canvas.width = out;
    canvas.height = out;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new AvatarError('This browser cannot resize images.');
    // Centre crop to a square (avatars are shown round).
    const sx = (bitmap.width - side) / 2;
    const sy = (bitmap.height - side) / 2;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, sx, sy, side, side, 0, 0, out, out);
    for (const type of ['image/webp', 'image/jpeg'] as const) {
      for (const quality of [0.85, 0.7, 0.55, 0.4, 0.25]) {
        const blob = await canvasBlob(canvas, type, quality);
        if (!blob || blob.type !== type) break; // this type cannot be encoded here (e.g. WebP on Safari)
        if (blob.size > PROFILE_AVATAR_MAX_BYTES) continue;
        const bytes = new Uint8Array(await blob.arrayBuffer());
        const mime = sniffImageMime(bytes);
        if (mime === type) return { mime, bytes };
        break;
      }
    }
    throw new AvatarError('That image could not be made small enough. Try another picture.');
  } finally {
    bitmap.close();
  }
}

/**
 * Readable lines from a `ClientError('invalid_input')` of `setProfile` (its `details` name the field), each
 * line once.
 */
export function profileErrorLines(e: unknown): string[] {
  if (isClientError(e, 'invalid_input') && e.details.length > 0) {
    const lines = e.details.map((d) =>
      d
        .replace(/^displayName: /, 'Display name: ')
        .replace(/^status: /, 'Status: ')
        .replace(/^avatar(\.\w+)?: /, 'Picture: '),
    );
    return [...new Set(lines)];
  }
  if (e instanceof AvatarError) return [e.message];
  return [chatErrorText(e)];
}

/** See the module comment. */
export function ProfileDialog(props: { store: ChatStore; onClose: () => void }): JSX.Element {
  const s = props.store;
  const me = s.me.userId;
  const initial = s.profileOf(me);
  const [name, setName] = createSignal(initial?.displayName ?? '');
  const [status, setStatus] = createSignal(initial?.status ?? '');
  /**
   * What the fields started from: Save sends only the fields the user changed, so a dialog left open does not
   * undo a name or status saved meanwhile on another device.
   */
  let base = { name: name().trim(), status: status().trim() };
  /** undefined: unchanged; null: remove; a value: the new picture. */
  const [avatar, setAvatar] = createSignal<ProfileAvatar | null | undefined>(undefined);
  const [preview, setPreview] = createSignal<string | undefined>();
  const [busy, setBusy] = createSignal(false);
  /** A chosen picture is being decoded and downscaled (seconds for a very large image). */
  const [preparing, setPreparing] = createSignal(false);
  const [errors, setErrors] = createSignal<string[]>([]);
  let touched = false;
  let closed = false;
  /** Bumped by every pick and by Remove: only the latest choice is applied. */
  let pickSeq = 0;

  // Fill in the saved profile when it arrives after the dialog opened (first open on this device).
  onMount(() => {
    if (initial) return;
    void s
      .whenStarted()
      .then(() => s.client.profile(me))
      .then((p) => {
        if (!p || touched) return;
        setName(p.displayName ?? '');
        setStatus(p.status ?? '');
        base = { name: name().trim(), status: status().trim() };
      })
      .catch(() => undefined);
  });

  const setPreviewUrl = (url: string | undefined) => {
    const old = preview();
    if (old) URL.revokeObjectURL(old);
    setPreview(url);
  };
  onCleanup(() => {
    closed = true;
    setPreviewUrl(undefined);
  });

  const shownAvatar = () => (avatar() === undefined ? s.avatarUrl(me) : avatar() === null ? undefined : preview());
  const count = (v: string) => [...v].length;
  const nameTooLong = () => count(name()) > PROFILE_DISPLAY_NAME_MAX;
  const statusTooLong = () => count(status()) > PROFILE_STATUS_MAX;

  /**
   * Prepares the chosen picture (a very large image takes seconds to decode). Save is disabled meanwhile, and
   * `save` refuses: it would otherwise save the profile without the picture still on its way and close the
   * dialog as if everything was saved. Choosing again or Remove supersedes a picture still being prepared.
   */
  async function pick(file: File | undefined): Promise<void> {
    if (!file) return;
    const seq = ++pickSeq;
    setErrors([]);
    setPreparing(true);
    try {
      const a = await downscaleAvatar(file);
      if (closed || seq !== pickSeq) return; // no object URL for a dialog that is gone or a choice replaced
      setAvatar(a);
      setPreviewUrl(URL.createObjectURL(new Blob([a.bytes as Uint8Array<ArrayBuffer>], { type: a.mime })));
    } catch (e) {
      if (!closed && seq === pickSeq) setErrors(profileErrorLines(e));
    } finally {
      if (seq === pickSeq) setPreparing(false);
    }
  }

  async function save(): Promise<void> {
    if (busy() || preparing()) return;
    const update: ProfileUpdate = {};
    if (name().trim() !== base.name) update.displayName = name().trim() || null;
    if (status().trim() !== base.status) update.status = status().trim() || null;
    const a = avatar();
    if (a !== undefined) update.avatar = a;
    setBusy(true);
    setErrors([]);
    try {
      await s.setProfile(update);
      toast('Profile saved');
      props.onClose();
    } catch (e) {
      setErrors(profileErrorLines(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Your profile" onClose={props.onClose}>
      <form
        class="form profile-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <p class="muted small">Your contacts see this. It is end-to-end encrypted: the server cannot read it.</p>
        <div class="profile-avatar-row">
          <Avatar name={name().trim() || s.me.username} colourKey={me} size="lg" src={shownAvatar()} />
          <div class="profile-avatar-actions">
            <input
              id="profile-avatar"
              class="visually-hidden"
              type="file"
              accept="image/png,image/jpeg,image/webp"
              onChange={(e) => {
                const input = e.currentTarget;
                void pick(input.files?.[0]).finally(() => (input.value = ''));
              }}
            />
            <label class="btn btn-small" for="profile-avatar">
              Choose picture
            </label>
            <Show when={shownAvatar()}>
              <button
                type="button"
                class="btn btn-small btn-ghost"
                onClick={() => {
                  pickSeq++;
                  setPreparing(false);
                  setAvatar(null);
                  setPreviewUrl(undefined);
                }}
              >
                Remove picture
              </button>
            </Show>
            {/* Present (empty) from the start, so the live region announces the text when it appears. */}
            <span id="profile-avatar-status" class="profile-avatar-status small" role="status">
              <Show when={preparing()}>
                <span class="spinner spinner-small" aria-hidden="true" />
                Preparing picture…
              </Show>
            </span>
          </div>
        </div>
        <div class="field">
          <label for="profile-name">Display name</label>
          <input
            id="profile-name"
            class="input"
            autocomplete="nickname"
            value={name()}
            placeholder={s.me.username}
            aria-describedby="profile-name-hint"
            aria-invalid={nameTooLong() ? 'true' : undefined}
            onInput={(e) => {
              touched = true;
              setName(e.currentTarget.value);
            }}
          />
          {/* No maxlength: it counts UTF-16 units, so it would cap a name of emoji at half the allowed code
              points and silently cut pasted text; the counter says so instead, and Save gives one error. */}
          <p id="profile-name-hint" class="field-hint" classList={{ 'field-hint-over': nameTooLong() }}>
            <Show when={nameTooLong()} fallback={<>{count(name())}/{PROFILE_DISPLAY_NAME_MAX}. Empty shows your username, {s.me.username}.</>}>
              {count(name())}/{PROFILE_DISPLAY_NAME_MAX}: too long by {count(name()) - PROFILE_DISPLAY_NAME_MAX}.
            </Show>
          </p>
        </div>
        <div class="field">
          <label for="profile-status">Status</label>
          <input
            id="profile-status"
            class="input"
            value={status()}
            aria-describedby="profile-status-hint"
            aria-invalid={statusTooLong() ? 'true' : undefined}
            onInput={(e) => {
              touched = true;
              setStatus(e.currentTarget.value);
            }}
          />
          <p id="profile-status-hint" class="field-hint" classList={{ 'field-hint-over': statusTooLong() }}>
            {count(status())}/{PROFILE_STATUS_MAX}
            {statusTooLong() ? `: too long by ${count(status()) - PROFILE_STATUS_MAX}.` : ''}
          </p>
        </div>
        <FormError message={errors()} />
        <div class="button-row">
          <button type="submit" class="btn btn-primary" disabled={busy() || preparing()} aria-describedby={preparing() ? 'profile-avatar-status' : undefined}>
            {busy() ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
