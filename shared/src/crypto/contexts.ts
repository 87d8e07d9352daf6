/**
 * Every domain-separation string Parley uses, in one place. A string is never reused for a second
 * purpose; changing one is a format version change (old fixtures must keep opening).
 */

/** The domain-separation strings, by purpose. */
export const CONTEXT = {
  /** HKDF info: password master key -> key sent to the server as the login verifier. */
  authKey: 'parley/auth-key/v1',
  /** HKDF info: password master key -> key-encryption key for the account bundle (never sent). */
  kek: 'parley/kek/v1',
  /** HKDF info: recovery key -> key-encryption key for the recovery bundle. */
  recoveryKek: 'parley/recovery-kek/v1',
  /** HKDF info: recovery key -> verifier sent to the server to fetch the recovery bundle. */
  recoveryAuth: 'parley/recovery-auth/v1',
  /** SHA-256 prefix for the checksum group of a displayed recovery key (catches typos). */
  recoveryKeyChecksum: 'parley/recovery-key-checksum/v1',
  /** AEAD associated-data prefix for the account bundle (password-wrapped). */
  accountBundle: 'parley/account-bundle/v1',
  /** AEAD associated-data prefix for the recovery bundle. */
  recoveryBundle: 'parley/recovery-bundle/v1',
  /** Signature context: the identity key vouching for the user's sealing key. */
  sealingKey: 'parley/sealing-key/v1',
  /** HKDF info for the sealed box (ephemeral X25519 -> wrapping key). */
  sealedBox: 'parley/sealed-box/v1',
  /** Signature context for a conversation-key wrap. */
  wrap: 'parley/wrap/v1',
  /** HKDF info: conversation epoch key -> frame encryption key. */
  frameKey: 'parley/frame-key/v1',
  /** Signature context for envelope frames. */
  frame: 'parley/frame/v1',
  /** HKDF info: conversation epoch key -> awareness encryption key. */
  awarenessKey: 'parley/awareness-key/v1',
  /** Signature context for awareness states. */
  awareness: 'parley/awareness/v1',
  /** Signature context for inner chat messages and ops. */
  message: 'parley/message/v1',
  /** Signature context for membership changes. */
  membership: 'parley/membership/v1',
  /** Safety-number derivation. */
  safetyNumber: 'parley/safety-number/v1',
  /** HKDF info: epoch key -> wrap of an older epoch key under a newer one. */
  epochChain: 'parley/epoch-chain/v1',
  /** HKDF info for file keys -> per-chunk AEAD key. */
  fileChunk: 'parley/file-chunk/v1',
  /** HKDF info for the local at-rest key. */
  localStore: 'parley/local-store/v1',
  /** HKDF info: epoch key -> public commitment that binds every wrap of an epoch to one key. */
  keyCommitment: 'parley/key-commitment/v1',
  /** SHA-256 prefix of a user's device tag: the part of a deviceId that names its user ([INNER-11]). */
  deviceTag: 'parley/device-tag/v1',
  /** Label bound into the AAD of profile-key wraps ([PROFILE-2]); profile frames use the standard frame key. */
  profileKey: 'parley/profile-key/v1',
} as const;

/** One of the strings in `CONTEXT`; HKDF and signatures accept nothing else. */
export type Context = (typeof CONTEXT)[keyof typeof CONTEXT];
