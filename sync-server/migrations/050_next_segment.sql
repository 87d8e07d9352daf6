-- A segment created ahead of the size cap ([SEG-4] in docs/protocol.md): state 'next', at most one per
-- conversation. Members attach to it while the open segment fills, so the size-cap rollover only promotes it.
ALTER TABLE segments DROP CONSTRAINT segments_state_check;
ALTER TABLE segments ADD CONSTRAINT segments_state_check CHECK (state IN ('open', 'closed', 'next'));
CREATE UNIQUE INDEX segments_one_next_idx ON segments (conv_id) WHERE state = 'next';
