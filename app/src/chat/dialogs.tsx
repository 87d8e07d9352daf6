/**
 * Dialogs of the chat screens, on the native `<dialog>` (modal focus handling and Escape for free): new
 * chat, new group, group info (members with roles, rename, add, remove, leave; unverified members flagged),
 * and contact info (safety number, key-change warning).
 */
import { createMemo, createSignal, For, onMount, Show, type JSX } from 'solid-js';
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
  const [busy, run, error] = useBusy();
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
          void run(() => props.store.createGroup(name(), list())).then((c) => {
            if (c) props.onOpened(c.id);
          });
        }}
      >
        <div class="field">
          <label for="new-group-name">Group name</label>
          <input id="new-group-name" class="input" required maxlength="100" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
          <p class="field-hint">Only members can see the name; it is encrypted like messages.</p>
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
  const [busy, run, error] = useBusy();
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
              void run(async () => {
                await props.conv.rename(n);
                toast('Group renamed');
              });
            }}
          >
            <div class="field grow">
              <label for="group-rename">Group name</label>
              <input id="group-rename" class="input" maxlength="100" value={rename()} onInput={(e) => setRename(e.currentTarget.value)} />
            </div>
            <button type="submit" class="btn" disabled={busy() || !rename().trim() || rename().trim() === props.conv.name}>
              Rename
            </button>
          </form>
        </Show>
        <h3 class="section-title">Members ({members().length})</h3>
        <ul class="member-list">
          <For each={members()}>
            {(m) => (
              <li class="member" classList={{ unverified: m.unverified }}>
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
                  <button
                    type="button"
                    class="btn btn-small btn-danger"
                    disabled={busy()}
                    aria-label={`Remove ${m.name}`}
                    onClick={() =>
                      void run(async () => {
                        await s.client.removeMember(props.conv.id, m.userId);
                        toast(`${m.name} was removed`);
                      })
                    }
                  >
                    Remove
                  </button>
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
                <button type="button" class="btn btn-danger" onClick={() => setConfirmLeave(true)}>
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
              <button type="button" class="btn" onClick={() => setConfirmLeave(false)}>
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
