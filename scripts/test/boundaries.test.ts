import { describe, expect, it } from 'vitest';
import { checkSource } from '../boundaries.ts';
import { lintBoundaries } from '../lint.ts';

const rules = (file: string, src: string) => checkSource(file, src).map((v) => v.rule);

describe('dependency boundaries', () => {
  it('[B1] the server may import only the protocol from shared', () => {
    expect(rules('sync-server/src/a.ts', `import { x } from '@parley/shared/protocol';`)).toEqual([]);
    expect(rules('sync-server/src/a.ts', `import { open } from '@parley/shared/crypto';`)).toEqual(['B1']);
    expect(rules('sync-server/src/a.ts', `import { x } from '@parley/shared/envelope';`)).toEqual(['B1']);
    expect(rules('sync-server/src/a.ts', `const c = await import('@parley/shared/client');`)).toEqual(['B1']);
    expect(rules('sync-server/src/a/b.ts', `import { open } from '../../../shared/src/crypto/aead.ts';`)).toEqual(['B1']);
    expect(rules('sync-server/src/a.ts', `import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';`)).toEqual(['B1']);
    expect(rules('sync-server/src/a.ts', `export * from '@parley/shared/crypto';`)).toEqual(['B1']);
  });

  it('[B2] shared imports no Node-only or DOM-only module', () => {
    expect(rules('shared/src/x.ts', `import { readFileSync } from 'node:fs';`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `import crypto from 'crypto';`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `import WebSocket from 'ws';`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `import { IndexeddbPersistence } from 'y-indexeddb';`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `import * as Y from 'yjs';`)).toEqual([]);
  });

  it('[B2] shared references no Node-only or DOM-only global', () => {
    expect(rules('shared/src/x.ts', `const a = process.env.X;`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `const b = Buffer.from('x');`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `window.alert('x');`)).toEqual(['B2']);
    expect(rules('shared/src/x.ts', `const s = localStorage.getItem('t');`)).toEqual(['B2']);
    // property names, keys and locally declared names are not globals
    expect(rules('shared/src/x.ts', `const o = { process: 1, window: 2 }; o.process; function f(document: string) { return document; }`)).toEqual([]);
  });

  it('[B3] shared never imports app or sync-server', () => {
    expect(rules('shared/src/x.ts', `import { a } from '../../sync-server/src/config.ts';`)).toEqual(['B3']);
    expect(rules('shared/src/x.ts', `import { a } from '@parley/app';`)).toEqual(['B3']);
  });

  it('[B4] the app never imports the server', () => {
    expect(rules('app/src/x.tsx', `import { startServer } from '../../sync-server/src/server.ts';`)).toEqual(['B4']);
    expect(rules('app/src/x.tsx', `import { client } from '@parley/shared/client';`)).toEqual([]);
  });

  it('files outside the checked areas are not constrained', () => {
    expect(rules('sync-server/test/x.test.ts', `import { open } from '@parley/shared/crypto';`)).toEqual([]);
  });

  it('the repository itself has no boundary violations', () => {
    expect(lintBoundaries()).toEqual([]);
  });
});
