/**
 * Dialogs of the chat screens, on the native `<dialog>` (modal focus handling and Escape for free): new
 * chat, new group, group info (members with roles, rename, add, remove, leave; unverified members flagged),
 * and contact info (safety number, key-change warning).
 */
import { createEffect, createMemo, createSignal, For, on, onMount, Show, type JSX } from 'solid-js';
import type { Conversation } from '@parley/shared/client';
import type { ChatStore } from './chat-store.ts';
import { chatErrorText } from './notifications.ts';
import { Avatar } from './Avatar.tsx';
import { FormError } from '../ui/FormError.tsx';
import { toast } from '../ui/toasts.tsx';
import { qrDataUrl } from './qr.ts';

/** A modal dialog that opens on mount and calls `onClose` when dismissed. */
export function Modal(props: { title: string; onClose: () => void; children: JSX.Element; wide?: boolean }): JSX.Element {
  let dlg!: HTMLDialogElement;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  onMount(() => {
    dlg.showModal();
  });
  return (
    <dialog
      ref={dlg}
      class="modal"
      classList={{ 'modal-wide': props.wide }}
      aria-labelledby={titleId}
      onClose={() => props.onClose()}
      onClick={(e) => {
        if (e.target === dlg) dlg.close();
      }}
    >
      <div class="modal-inner">
        <div class="modal-head">
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" class="btn btn-icon" aria-label="Close" onClick={() => dlg.close()}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
        {props.children}
      </div>
    </dialog>
  );
}

function useBusy(): [() => boolean, <T>(fn: () => Promise<T>) => Promise<T | undefined>, () => string, (s: string) => void] {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError('');
    try {
      return await fn();
    } catch (e) {
      setError(chatErrorText(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [busy, run, error, setError];
}

/**
 * Longest group name, in code points (the protocol's limit, 200 UTF-16 units, holds any 100 code points).
 * No `maxlength`: it counts UTF-16 units, so it would cut a name in the middle of an emoji; the hint counts
 * and says by how much a name is too long, and the form refuses it with nothing cut.
 */
export const GROUP_NAME_MAX = 100;

/** A group name's length as counted against `GROUP_NAME_MAX`: code points of the trimmed name. */
export function groupNameLength(name: string): number {
  return [...name.trim()].length;
}

/** The hint under a group name field: "12/100", or "120/100: too long by 20." */
function GroupNameHint(props: { id: string; name: string; extra?: string }): JSX.Element {
  const n = () => groupNameLength(props.name);
  const over = () => n() > GROUP_NAME_MAX;
  return (
    <p id={props.id} class="field-hint" classList={{ 'field-hint-over': over() }}>
      {n()}/{GROUP_NAME_MAX}
      {over() ? `: too long by ${n() - GROUP_NAME_MAX}.` : props.extra ? `. ${props.extra}` : ''}
    </p>
  );
}

/** The refusal of a group name over `GROUP_NAME_MAX`, or '' when it fits. */
function groupNameError(name: string): string {
  const over = groupNameLength(name) - GROUP_NAME_MAX;
  return over > 0 ? `The group name is too long by ${over} character${over === 1 ? '' : 's'}. Use at most ${GROUP_NAME_MAX}.` : '';
}

/** "New chat": a username; errors (unknown user, yourself, offline) stay in the dialog. */
export function NewChatDialog(props: { store: ChatStore; onClose: () => void; onOpened: (convId: string) => void }): JSX.Element {
  const [username, setUsername] = createSignal('');
  const [busy, run, error] = useBusy();
  return (
    <Modal title="New chat" onClose={props.onClose}>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!username().trim()) return;
          void run(() => props.store.startDirect(username())).then((c) => {
            if (c) props.onOpened(c.id);
          });
        }}
      >
        <div class="field">
          <label for="new-chat-username">Username</label>
          <input
            id="new-chat-username"
            class="input"
            autocomplete="off"
            autocapitalize="none"
            spellcheck={false}
            required
            value={username()}
            aria-invalid={error() ? 'true' : undefined}
            aria-describedby="new-chat-error"
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </div>
        <FormError id="new-chat-error" message={error()} />
        <div class="button-row">
          <button type="submit" class="btn btn-primary" disabled={busy() || !username().trim()}>
            {busy() ? 'Starting…' : 'Start chat'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** "New group": a name and member usernames (comma- or line-separated). */
export function NewGroupDialog(props: { store: ChatStore; onClose: () => void; onOpened: (convId: string) => void }): JSX.Element {
  const [name, setName] = createSignal('');
  const [members, setMembers] = createSignal('');
  const [busy, run, error, setError] = useBusy();
  const list = () =>
    members()
      .split(/[\s,;]+/)
      .map((s) => s.trim())
      .filter(Boolean);
  return (
    <Modal title="New group" onClose={props.onClose}>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          const tooLong = groupNameError(name());
          if (tooLong) {
            setError(tooLong);
            return;
          }
          void run(() => props.store.createGroup(name(), list())).then((c) => {
            if (c) props.onOpened(c.id);
          });
        }}
      >
        <div class="field">
          <label for="new-group-name">Group name</label>
          <input
            id="new-group-name"
            class="input"
            required
            value={name()}
            aria-describedby="new-group-name-hint"
            aria-invalid={groupNameLength(name()) > GROUP_NAME_MAX ? 'true' : undefined}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <GroupNameHint id="new-group-name-hint" name={name()} extra="Only members can see the name; it is encrypted like messages." />
        </div>
        <div class="field">
          <label for="new-group-members">Members</label>
          <textarea
            id="new-group-members"
            class="input"
            rows="3"
            autocapitalize="none"
            spellcheck={false}
            required
            value={members()}
            aria-describedby="new-group-members-hint new-group-error"
            onInput={(e) => setMembers(e.currentTarget.value)}
          />
          <p id="new-group-members-hint" class="field-hint">
            Usernames separated by commas or spaces. You will be the group’s admin.
          </p>
        </div>
        <FormError id="new-group-error" message={error()} />
        <div class="button-row">
          <button type="submit" class="btn btn-primary" disabled={busy() || !name().trim() || list().length === 0}>
            {busy() ? 'Creating…' : 'Create group'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Group info: members with roles; admins rename, add and remove; anyone leaves. */
export function GroupInfoDialog(props: { store: ChatStore; conv: Conversation; onClose: () => void; onLeft: () => void; onContact: (userId: string) => void }): JSX.Element {
  const s = props.store;
  const [rename, setRename] = createSignal(props.conv.name ?? '');
  const [add, setAdd] = createSignal('');
  const [confirmLeave, setConfirmLeave] = createSignal(false);
  let leaveButton: HTMLButtonElement | undefined;
  let stayButton: HTMLButtonElement | undefined;
  /** The member whose "Remove" asks "Remove X? …" (like "Leave group"); undefined: none. */
  const [confirmRemove, setConfirmRemove] = createSignal<string>();
  const [busy, run, error, setError] = useBusy();
  let membersHeading!: HTMLHeadingElement;
  /** A removed member whose row takes focus with it: the heading gets it (and says the new count). */
  let removedFocus: string | undefined;
  const members = createMemo(() => {
    s.membersVersion();
    const roles = props.conv.membership.members;
    const listed = props.conv.info.members.map((m) => m.userId);
    const ids = [...new Set([...roles.keys(), ...listed])];
    return ids
      .map((userId) => ({ userId, name: s.nameOf(userId), role: roles.get(userId), unverified: props.conv.unverifiedMembers.includes(userId) }))
      .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'admin' ? -1 : 1));
  });
  const amAdmin = () => {
    s.membersVersion();
    return props.conv.membership.members.get(s.me.userId) === 'admin';
  };
  const removed = () => s.removed().has(props.conv.id);
  createEffect(
    on(members, (list) => {
      const asked = confirmRemove();
      if (asked !== undefined && !list.some((m) => m.userId === asked)) setConfirmRemove(undefined);
      if (removedFocus === undefined || list.some((m) => m.userId === removedFocus)) return;
      removedFocus = undefined;
      const a = document.activeElement;
      if (!a || a === document.body || !a.isConnected) membersHeading.focus();
    }),
  );
  const remove = (m: { userId: string; name: string }) =>
    void run(async () => {
      removedFocus = m.userId;
      try {
        await s.client.removeMember(props.conv.id, m.userId);
      } catch (e) {
        removedFocus = undefined;
        throw e;
      }
      toast(`${m.name} was removed`); // the question goes with the row (see the effect above)
    });
  return (
    <Modal title="Group info" onClose={props.onClose} wide>
      <div class="group-info">
        <Show when={amAdmin() && !removed()} fallback={<p class="group-name-static">{props.conv.name ?? 'Unnamed group'}</p>}>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const n = rename().trim();
              if (!n) return;
              const tooLong = groupNameError(n);
              if (tooLong) {
                setError(tooLong);
                return;
              }
              void run(async () => {
                await props.conv.rename(n);
                toast('Group renamed');
              });
            }}
          >
            <div class="field grow">
              <label for="group-rename">Group name</label>
              <input
                id="group-rename"
                class="input"
                value={rename()}
                aria-describedby="group-rename-hint"
                aria-invalid={groupNameLength(rename()) > GROUP_NAME_MAX ? 'true' : undefined}
                onInput={(e) => setRename(e.currentTarget.value)}
              />
              <GroupNameHint id="group-rename-hint" name={rename()} />
            </div>
            <button type="submit" class="btn" disabled={busy() || !rename().trim() || rename().trim() === props.conv.name}>
              Rename
            </button>
          </form>
        </Show>
        <h3 class="section-title" tabindex="-1" ref={membersHeading}>
          Members ({members().length})
        </h3>
        <ul class="member-list">
          <For each={members()}>
            {(m) => (
              <li class="member" classList={{ unverified: m.unverified }} data-user-id={m.userId}>
                <Avatar name={m.name} colourKey={m.userId} size="sm" online={s.isOnline(m.userId)} />
                <span class="member-name">
                  {m.name}
                  {m.userId === s.me.userId ? ' (you)' : ''}
                </span>
                <span class="member-role badge">{m.unverified ? 'Unverified' : m.role === 'admin' ? 'Admin' : 'Member'}</span>
                <Show when={m.unverified}>
                  <span class="member-warning small">Not added by an admin: cannot read messages</span>
                </Show>
                <Show when={m.userId !== s.me.userId}>
                  <button type="button" class="btn btn-small btn-ghost" onClick={() => props.onContact(m.userId)} aria-label={`Safety number of ${m.name}`}>
                    Verify
                  </button>
                </Show>
                <Show when={amAdmin() && m.userId !== s.me.userId && !removed()}>
                  {/* Asks first, like "Leave group": one click next to "Verify" must not cut someone off. */}
                  <Show
                    when={confirmRemove() === m.userId}
                    fallback={
                      <button
                        type="button"
                        class="btn btn-small btn-danger member-remove"
                        disabled={busy()}
                        aria-label={`Remove ${m.name}`}
                        onClick={() => setConfirmRemove(m.userId)}
                      >
                        Remove
                      </button>
                    }
                  >
                    <div class="member-confirm" role="group" aria-labelledby={`remove-q-${m.userId}`}>
                      <span id={`remove-q-${m.userId}`}>
                        Remove {m.name}? They keep what they had but get nothing new.
                      </span>
                      <span class="button-row">
                        <button type="button" class="btn btn-small btn-danger" disabled={busy()} onClick={() => remove(m)}>
                          {busy() ? 'Removing…' : 'Remove'}
                        </button>
                        <button
                          type="button"
                          class="btn btn-small"
                          disabled={busy()}
                          ref={(el) =>
                            queueMicrotask(() => {
                              // The pressed "Remove" is gone: the safe answer takes focus (the group names the question).
                              const a = document.activeElement;
                              if (!a || a === document.body) el.focus();
                            })
                          }
                          onClick={() => {
                            setConfirmRemove(undefined);
                            queueMicrotask(() =>
                              document.querySelector<HTMLElement>(`.member[data-user-id="${CSS.escape(m.userId)}"] .member-remove`)?.focus(),
                            );
                          }}
                        >
                          Cancel
                        </button>
                      </span>
                    </div>
                  </Show>
                </Show>
              </li>
            )}
          </For>
        </ul>
        <Show when={amAdmin() && !removed()}>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const u = add().trim();
              if (!u) return;
              void run(async () => {
                await s.addMember(props.conv.id, u);
                setAdd('');
                toast(`${u} was added`);
              });
            }}
          >
            <div class="field grow">
              <label for="group-add">Add a member</label>
              <input id="group-add" class="input" autocapitalize="none" spellcheck={false} placeholder="Username" value={add()} onInput={(e) => setAdd(e.currentTarget.value)} />
            </div>
            <button type="submit" class="btn" disabled={busy() || !add().trim()}>
              Add
            </button>
          </form>
        </Show>
        <FormError message={error()} />
        <Show when={!removed()}>
          <div class="button-row">
            <Show
              when={confirmLeave()}
              fallback={
                <button
                  type="button"
                  class="btn btn-danger"
                  ref={(el) => (leaveButton = el)}
                  onClick={() => {
                    setConfirmLeave(true);
                    stayButton?.focus(); // the button pressed is gone: focus the safe answer
                  }}
                >
                  Leave group
                </button>
              }
            >
              <button
                type="button"
                class="btn btn-danger"
                disabled={busy()}
                onClick={() =>
                  void run(async () => {
                    await s.client.leave(props.conv.id);
                    toast('You left the group');
                    props.onLeft();
                  })
                }
              >
                Leave for good
              </button>
              <button
                type="button"
                class="btn"
                ref={(el) => (stayButton = el)}
                onClick={() => {
                  setConfirmLeave(false);
                  leaveButton?.focus();
                }}
              >
                Stay
              </button>
            </Show>
          </div>
        </Show>
      </div>
    </Modal>
  );
}

/** Splits a 60-digit safety number into groups of five. */
export function safetyGroups(n: string): string[] {
  return n.match(/\d{5}/g) ?? [];
}

/**
 * Contact info: display name and status (their encrypted profile), username, presence, the safety number
 * (text groups and a QR code), and a loud warning when their key changed.
 */
export function ContactDialog(props: { store: ChatStore; userId: string; onClose: () => void }): JSX.Element {
  const s = props.store;
  const username = () => s.nameOf(props.userId);
  const profile = () => s.profileOf(props.userId);
  const name = () => profile()?.displayName || username();
  const changed = () => s.keyChanged().has(props.userId);
  const [number, setNumber] = createSignal<string[] | undefined>();
  const [qr, setQr] = createSignal<string | undefined>();
  const [error, setError] = createSignal('');
  onMount(() => {
    void s.client.directory
      .get(props.userId)
      .then(() => {
        const digits = s.client.directory.safetyNumber(props.userId);
        setNumber(safetyGroups(digits));
        return qrDataUrl(digits).then(setQr, () => undefined); // the text stays the primary way to compare
      })
      .catch((e: unknown) => setError(chatErrorText(e)));
  });
  return (
    <Modal title={name()} onClose={props.onClose}>
      <div class="contact">
        <div class="contact-head">
          <Avatar name={name()} colourKey={props.userId} size="lg" online={s.isOnline(props.userId)} src={s.avatarUrl(props.userId)} />
          <div>
            <p class="contact-name">{name()}</p>
            <Show when={name() !== username()}>
              <p class="muted small contact-username">@{username()}</p>
            </Show>
            <Show when={profile()?.status}>
              {(st) => <p class="contact-status" data-testid="contact-status">{st()}</p>}
            </Show>
            <p class="muted small">{s.isOnline(props.userId) ? 'Online' : 'Offline'}</p>
          </div>
        </div>
        <Show when={changed()}>
          <div class="key-warning" role="alert">
            <strong>{name()}’s security key changed.</strong> The server offered a different key than the one this device
            pinned. This can happen if they reset their account, or if someone is trying to impersonate them. Parley keeps
            using the old key. Compare the safety number below with {name()} in person or over a call before trusting new
            messages.
          </div>
        </Show>
        <h3 class="section-title">Safety number</h3>
        <p class="muted small">
          Compare these numbers with {name()} on their device. If they match, your messages are end-to-end encrypted with
          the right keys.
        </p>
        <Show when={number()} fallback={<p class="muted">{error() || 'Loading…'}</p>}>
          {(groups) => (
            <p class="safety-number" aria-label={`Safety number: ${groups().join(' ')}`} data-testid="safety-number">
              <For each={groups()}>{(g) => <span class="safety-group">{g}</span>}</For>
            </p>
          )}
        </Show>
        <Show when={qr()}>
          {(src) => (
            <figure class="safety-qr">
              <img src={src()} alt={`QR code of the safety number ${number()?.join(' ') ?? ''}`} width="200" height="200" data-testid="safety-qr" />
              <figcaption class="muted small">Or scan this code with {name()}’s device.</figcaption>
            </figure>
          )}
        </Show>
      </div>
    </Modal>
  );
}
