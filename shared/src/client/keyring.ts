/**
 * `Keyring`: the epoch keys of one conversation on this device ([WRAP-1..3]).
 *
 * - `refresh()` fetches GET /keys, opens this user's wrap of each epoch (signature checked against the
 *   wrapper's PINNED identity key; the wrapper must be a member the caller vouches for; key commitment
 *   checked), then walks chain wraps downwards so the newest key yields the history.
 * - `newEpoch()` builds an `EpochUpload` (fresh key, commitment, one wrap per recipient, chain wrap from the
 *   previous epoch) for create / removal / rotation.
 * - `wrapFor()` makes the wraps of peer-assisted delivery.
 * Keys are cached in memory and persisted sealed (`SealedStore`).
 */
import { equalBytes } from '../crypto/index.ts';
import {
  epochKeyCommitment,
  generateEpochKey,
  unwrapChainKeyAsync,
  unwrapEpochKeyAsync,
  wrapChainKey,
  wrapEpochKey,
} from '../crypto/wrap.ts';
import { KeyWrapsResponse, fromBase64Url, toBase64Url, type EpochUpload, type KeyWrap } from '../protocol/index.ts';
import type { AccountKeys } from './account-crypto.ts';
import type { KeyDirectory } from './key-directory.ts';
import type { SealedStore } from './storage.ts';
import type { HttpTransport } from './transport.ts';
import { z } from 'zod';

/** Who created each epoch, as the server's key material said (kept, so an offline or archived open knows the creator of epoch 0). */
const StoredCreators = z.record(z.string().regex(/^\d{1,9}$/), z.uuid());

/** Why a wrap or chain wrap was refused. */
export interface KeyProblem {
  epoch: number;
  code: 'bad_signature' | 'decrypt_failed' | 'commitment_mismatch' | 'malformed' | 'untrusted_wrapper' | 'unknown_wrapper';
  wrapperId: string;
}

/** What `refresh` learned. */
export interface KeyringRefresh {
  /** Epochs whose key this device now holds. */
  held: number[];
  /** Members (current epoch) the server says lack a wrap. */
  missing: string[];
  problems: KeyProblem[];
  /** Newest epoch the server knows. */
  latest: number;
}

/** See the module comment. */
export class Keyring {
  readonly #keys = new Map<number, Uint8Array>();
  readonly #commitments = new Map<number, Uint8Array>();
  readonly #creators = new Map<number, string>();
  #loaded: Promise<void> | undefined;

  constructor(
    readonly convId: string,
    private readonly deps: { transport: HttpTransport; store: SealedStore; directory: KeyDirectory; keys: AccountKeys; userId: string },
  ) {}

  /** Loads keys (and epoch creators) persisted on this device (idempotent). */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      for (const name of await this.deps.store.list(`ek/${this.convId}/`)) {
        const epoch = Number(name.slice(name.lastIndexOf('/') + 1));
        const key = await this.deps.store.get(name);
        if (key && key.length === 32 && Number.isInteger(epoch)) this.#keys.set(epoch, key);
      }
      const creators = await this.deps.store.getJson(creatorsName(this.convId), StoredCreators).catch(() => undefined);
      for (const [epoch, userId] of Object.entries(creators ?? {})) if (!this.#creators.has(Number(epoch))) this.#creators.set(Number(epoch), userId);
    })();
    return this.#loaded;
  }

  /** The key of `epoch`, if held. */
  key(epoch: number): Uint8Array | undefined {
    return this.#keys.get(epoch);
  }

  /** The newest epoch whose key is held, or -1. */
  get newest(): number {
    let max = -1;
    for (const e of this.#keys.keys()) if (e > max) max = e;
    return max;
  }

  /** Who created `epoch` (from the last refresh). */
  creator(epoch: number): string | undefined {
    return this.#creators.get(epoch);
  }

  async #remember(epoch: number, key: Uint8Array): Promise<void> {
    if (this.#keys.has(epoch)) return;
    this.#keys.set(epoch, key);
    await this.deps.store.set(`ek/${this.convId}/${epoch}`, key);
  }

  /** The server's key material for this user (network only; `refresh` opens it). */
  fetch(): Promise<KeyWrapsResponse> {
    return this.deps.transport.request(KeyWrapsResponse, 'GET', `/api/conversations/${this.convId}/keys`, { auth: true });
  }

  /**
   * Fetches (unless `fetched` is given, from `fetch`) and opens key material. `trustedWrapper(userId, epoch)` says whether a wrapper may hand out keys
   * (a member the caller knows of). Throws `ClientError` only for transport failures.
   */
  async refresh(trustedWrapper: (userId: string, epoch: number) => boolean, fetched?: KeyWrapsResponse): Promise<KeyringRefresh> {
    await this.load();
    const res = fetched ?? (await this.fetch());
    const problems: KeyProblem[] = [];
    const { keys, userId } = this.deps;
    let newCreator = false;
    for (const e of res.epochs) {
      this.#commitments.set(e.epoch, fromBase64Url(e.keyCommitment));
      newCreator ||= this.#creators.get(e.epoch) !== e.creatorId;
      this.#creators.set(e.epoch, e.creatorId);
    }
    if (newCreator) await this.deps.store.setJson(creatorsName(this.convId), Object.fromEntries([...this.#creators].map(([epoch, u]) => [String(epoch), u])));
    for (const e of res.epochs) {
      if (this.#keys.has(e.epoch) || !e.wrap) continue;
      const wrapper = this.deps.directory.pinned(e.wrap.wrapperId) ?? (await this.deps.directory.get(e.wrap.wrapperId).catch(() => undefined));
      if (!wrapper) {
        problems.push({ epoch: e.epoch, code: 'unknown_wrapper', wrapperId: e.wrap.wrapperId });
        continue;
      }
      if (e.wrap.wrapperId !== userId && !trustedWrapper(e.wrap.wrapperId, e.epoch)) {
        problems.push({ epoch: e.epoch, code: 'untrusted_wrapper', wrapperId: e.wrap.wrapperId });
        continue;
      }
      const r = await unwrapEpochKeyAsync({
        convId: this.convId,
        epoch: e.epoch,
        recipientId: userId,
        recipient: keys.sealing,
        wrap: fromBase64Url(e.wrap.wrap),
        sig: fromBase64Url(e.wrap.sig),
        wrapperIdentityPublic: wrapper.identity,
        commitment: fromBase64Url(e.keyCommitment),
      });
      if (r.ok) await this.#remember(e.epoch, r.key);
      else problems.push({ epoch: e.epoch, code: r.code, wrapperId: e.wrap.wrapperId });
    }
    // Chain wraps: the key of epoch `to` opens the key of `fromEpoch`; repeat until nothing new opens.
    for (let progress = true; progress; ) {
      progress = false;
      for (const e of res.epochs) {
        const chain = e.chain;
        if (!chain || this.#keys.has(chain.fromEpoch)) continue;
        const newKey = this.#keys.get(e.epoch);
        if (!newKey) continue;
        const wrapper = this.deps.directory.pinned(chain.wrapperId) ?? (await this.deps.directory.get(chain.wrapperId).catch(() => undefined));
        if (!wrapper) {
          problems.push({ epoch: chain.fromEpoch, code: 'unknown_wrapper', wrapperId: chain.wrapperId });
          continue;
        }
        const commitment = this.#commitments.get(chain.fromEpoch);
        const r = await unwrapChainKeyAsync({
          convId: this.convId,
          fromEpoch: chain.fromEpoch,
          toEpoch: e.epoch,
          newKey,
          wrapped: fromBase64Url(chain.wrapped),
          sig: fromBase64Url(chain.sig),
          wrapperIdentityPublic: wrapper.identity,
          ...(commitment ? { commitment } : {}),
        });
        if (r.ok) {
          await this.#remember(chain.fromEpoch, r.key);
          progress = true;
        } else problems.push({ epoch: chain.fromEpoch, code: r.code, wrapperId: chain.wrapperId });
      }
    }
    // A held key must still match the server's commitment; a mismatch means the key we hold is not the one
    // the other members hold (never silently switch keys).
    for (const [epoch, key] of this.#keys) {
      const c = this.#commitments.get(epoch);
      if (c && !equalBytes(c, epochKeyCommitment(this.convId, epoch, key))) problems.push({ epoch, code: 'commitment_mismatch', wrapperId: '' });
    }
    const latest = res.epochs.reduce((m, e) => Math.max(m, e.epoch), -1);
    return { held: [...this.#keys.keys()].sort((a, b) => a - b), missing: res.missing, problems, latest };
  }

  /** Wraps the key of `epoch` for each recipient (peer-assisted delivery and adds). Throws if not held. */
  async wrapFor(epoch: number, recipientIds: readonly string[]): Promise<{ keyCommitment: string; wraps: KeyWrap[] }> {
    const key = this.#keys.get(epoch);
    if (!key) throw new Error(`epoch ${epoch} key not held`);
    const wraps: KeyWrap[] = [];
    for (const id of recipientIds) {
      const r = await this.deps.directory.get(id);
      const w = wrapEpochKey({
        convId: this.convId,
        epoch,
        key,
        recipientId: id,
        recipientSealingPublic: r.sealing,
        wrapperIdentitySecret: this.deps.keys.identity.secretKey,
      });
      wraps.push({ recipientId: id, wrap: toBase64Url(w.wrap), sig: toBase64Url(w.sig) });
    }
    return { keyCommitment: toBase64Url(epochKeyCommitment(this.convId, epoch, key)), wraps };
  }

  /**
   * Builds the upload of a new epoch for `memberIds` (self included by the caller when wanted), with a chain
   * wrap from `epoch - 1` when that key is held. The key is only remembered by `commit()` after the server
   * accepted it, so a lost race (409) leaves no stray key behind.
   */
  async newEpoch(epoch: number, memberIds: readonly string[]): Promise<{ upload: EpochUpload; commit: () => Promise<void> }> {
    const key = generateEpochKey();
    this.#keys.set(epoch, key);
    let upload: EpochUpload;
    try {
      const { keyCommitment, wraps } = await this.wrapFor(epoch, memberIds);
      const prev = this.#keys.get(epoch - 1);
      const chain =
        epoch > 0 && prev
          ? (() => {
              const c = wrapChainKey({ convId: this.convId, fromEpoch: epoch - 1, toEpoch: epoch, oldKey: prev, newKey: key, wrapperIdentitySecret: this.deps.keys.identity.secretKey });
              return { fromEpoch: epoch - 1, wrapped: toBase64Url(c.wrapped), sig: toBase64Url(c.sig) };
            })()
          : undefined;
      upload = { epoch, keyCommitment, wraps, ...(chain ? { chain } : {}) };
    } finally {
      this.#keys.delete(epoch);
    }
    return { upload, commit: () => this.#remember(epoch, key) };
  }
}

/** Storage name of a conversation's epoch creators (`StoredCreators`). */
export function creatorsName(convId: string): string {
  return `ekc/${convId}`;
}
