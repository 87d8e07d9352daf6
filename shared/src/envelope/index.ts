/**
 * Envelope layer: sealed, signed frames in a synced `log`, the binding to an in-memory inner Y.Doc, the inner
 * chat model, compaction and segment policy. Pure: runs in browsers, workers and Node. Spec: docs/protocol.md.
 */
export * from './frame.ts';
export * from './counters.ts';
export * from './ownership.ts';
export * from './snapshot-check.ts';
export * from './segments.ts';
export * from './binding.ts';
export * from './inner.ts';
export * from './doc-change.ts';
export * from './device-id.ts';
