-- 020_blobs: encrypted file blobs (docs/api.md "Blobs"). The server stores sealed chunks it cannot open,
-- plus what it needs to authorise and garbage-collect them: owner, conversation, sizes, upload state and
-- which members reference the blob. File names, types, keys and hashes exist only inside messages.

CREATE TABLE blobs (
  id          uuid PRIMARY KEY,
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  conv_id     uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  -- Sealed bytes and chunk count, declared at creation and checked against the stored chunks on completion.
  size        bigint NOT NULL CHECK (size >= 40),
  chunk_count integer NOT NULL CHECK (chunk_count >= 1),
  -- uploading -> complete -> (deleting, claimed by garbage collection while its chunks are removed)
  state       text NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'complete', 'deleting')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Last chunk received, or completion: the grace period of unattached blobs runs from here.
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- First attach; NULL means never attached.
  attached_at timestamptz,
  -- When the last reference was withdrawn (NULL while referenced or never attached).
  detached_at timestamptz
);
-- Per-user quota: sum of sizes by owner.
CREATE INDEX blobs_owner_idx ON blobs (owner_id);
-- Garbage collection scans by state and age.
CREATE INDEX blobs_gc_idx ON blobs (state, updated_at);

-- Explicit references ("the message carrying this blob was sent"), one per member who attached it.
CREATE TABLE blob_refs (
  blob_id    uuid NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blob_id, user_id)
);

-- The PostgreSQL BlobStore: one row per sealed chunk (<= 64 KiB + 40 bytes). No foreign key to blobs: the
-- store is an interface (a filesystem or S3 store has none either), and deletion goes through it.
CREATE TABLE blob_chunks (
  blob_id uuid NOT NULL,
  idx     integer NOT NULL CHECK (idx >= 0),
  data    bytea NOT NULL,
  PRIMARY KEY (blob_id, idx)
);
-- Ciphertext does not compress: store it out of line without trying.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
