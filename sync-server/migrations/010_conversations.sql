-- 010_conversations: conversations, members, segments, epochs and key wraps, and the append-only update
-- log of every synced document. Everything here is routing and authorisation metadata or ciphertext:
-- group names, membership ops, profiles and messages live inside encrypted documents.

CREATE TABLE conversations (
  id            uuid PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('direct', 'group')),
  -- For direct chats: "<smaller uuid>:<larger uuid>", so a pair has at most one direct conversation.
  direct_key    text UNIQUE,
  created_by    uuid NOT NULL REFERENCES users (id),
  current_epoch integer NOT NULL DEFAULT 0 CHECK (current_epoch >= 0),
  -- A member left: the next epoch must be created by a remaining member before new messages are sent.
  rotation_due  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE conversation_members (
  conv_id      uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('admin', 'member')),
  joined_epoch integer NOT NULL CHECK (joined_epoch >= 0),
  added_by     uuid REFERENCES users (id),
  joined_at    timestamptz NOT NULL DEFAULT now(),
  -- Set when the member leaves or is removed; a row with left_at set is not a member.
  left_at      timestamptz,
  PRIMARY KEY (conv_id, user_id)
);
-- "My conversations" and "do these users share a conversation" (presence fan-out).
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conv_id) WHERE left_at IS NULL;

CREATE TABLE segments (
  id         text PRIMARY KEY CHECK (id ~ '^s_[0-9a-f]{32}$'),
  conv_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  idx        integer NOT NULL CHECK (idx >= 0),
  epoch      integer NOT NULL CHECK (epoch >= 0),
  state      text NOT NULL CHECK (state IN ('open', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at  timestamptz,
  UNIQUE (conv_id, idx)
);
-- Exactly one open segment per conversation.
CREATE UNIQUE INDEX segments_one_open_idx ON segments (conv_id) WHERE state = 'open';

CREATE TABLE epochs (
  conv_id        uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  epoch          integer NOT NULL CHECK (epoch >= 0),
  key_commitment bytea NOT NULL CHECK (octet_length(key_commitment) = 32),
  creator_id     uuid NOT NULL REFERENCES users (id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conv_id, epoch)
);

CREATE TABLE key_wraps (
  conv_id      uuid NOT NULL,
  epoch        integer NOT NULL,
  recipient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  wrapper_id   uuid NOT NULL REFERENCES users (id),
  wrap         bytea NOT NULL CHECK (octet_length(wrap) BETWEEN 80 AND 200),
  sig          bytea NOT NULL CHECK (octet_length(sig) = 64),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conv_id, epoch, recipient_id),
  FOREIGN KEY (conv_id, epoch) REFERENCES epochs (conv_id, epoch) ON DELETE CASCADE
);
-- A user's wraps across conversations.
CREATE INDEX key_wraps_recipient_idx ON key_wraps (recipient_id, conv_id);

CREATE TABLE chain_wraps (
  conv_id    uuid NOT NULL,
  from_epoch integer NOT NULL,
  to_epoch   integer NOT NULL CHECK (to_epoch > from_epoch),
  wrapper_id uuid NOT NULL REFERENCES users (id),
  wrapped    bytea NOT NULL CHECK (octet_length(wrapped) BETWEEN 72 AND 128),
  sig        bytea NOT NULL CHECK (octet_length(sig) = 64),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conv_id, to_epoch),
  FOREIGN KEY (conv_id, to_epoch) REFERENCES epochs (conv_id, epoch) ON DELETE CASCADE
);

-- Append-only Yjs updates of every synced document (segments, meta, profiles). Written before the
-- server acknowledges an update; merged on load; compacted server-side (no keys needed).
CREATE TABLE doc_updates (
  doc        text NOT NULL CHECK (char_length(doc) <= 40),
  seq        bigserial,
  update     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (doc, seq)
);

-- A user's profile key (profiles are encrypted documents) sealed for each contact, signed by the owner.
CREATE TABLE profile_key_wraps (
  owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  recipient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  version      integer NOT NULL CHECK (version >= 0),
  wrap         bytea NOT NULL CHECK (octet_length(wrap) BETWEEN 80 AND 200),
  sig          bytea NOT NULL CHECK (octet_length(sig) = 64),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner_id, recipient_id, version)
);
-- "Profile keys shared with me".
CREATE INDEX profile_key_wraps_recipient_idx ON profile_key_wraps (recipient_id, owner_id);
