import { describe, expect, it } from 'vitest';
import { scan } from '../audit-scan.ts';

const needle = { label: 'canary', bytes: Buffer.from('canary-7f3a9c2e51') };

describe('privacy audit scanner', () => {
  it('finds a needle raw, as hex and inside base64/base64url at every alignment', () => {
    const raw = Buffer.from('xx canary-7f3a9c2e51 yy');
    expect(scan([{ place: 'a', data: raw }], [needle]).map((f) => f.encoding)).toContain('raw');
    const hex = Buffer.from(`id=${Buffer.from('canary-7f3a9c2e51').toString('hex')};`);
    expect(scan([{ place: 'b', data: hex }], [needle]).map((f) => f.encoding)).toContain('hex');
    for (const prefix of ['', 'a', 'ab']) {
      const b64 = Buffer.from(Buffer.from(`${prefix}canary-7f3a9c2e51zz`).toString('base64'));
      expect(scan([{ place: 'c', data: b64 }], [needle]).length).toBeGreaterThan(0);
      const b64url = Buffer.from(Buffer.from(`${prefix}canary-7f3a9c2e51zz`).toString('base64url'));
      expect(scan([{ place: 'd', data: b64url }], [needle]).length).toBeGreaterThan(0);
    }
  });

  it('reports nothing for data without the needle', () => {
    expect(scan([{ place: 'e', data: Buffer.from('canary-7f3a9c2e5 canary-7f3a9c2e52') }], [needle])).toEqual([]);
  });
});
