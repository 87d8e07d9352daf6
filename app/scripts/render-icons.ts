/**
 * One-off: renders the PNG icons (PWA 192/512, maskable 512, apple-touch-icon 180) from public/icon.svg
 * with Debian's Chromium (playwright-core), so the committed PNGs always match the SVG.
 * Run: `npm run icons -w @parley/app`, then commit app/public/*.png.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const pub = fileURLToPath(new URL('../public/', import.meta.url));
const svg = readFileSync(`${pub}icon.svg`, 'utf8').trim();
// Full-bleed variants: the platform applies its own mask, so draw a square background and keep the glyph
// inside the central 80% safe zone.
const glyph = svg.replace(/<rect[^>]*\/>/, '');
const fullBleed = (scale: number) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" fill="#2c4f7c"/>` +
  `<g transform="translate(${256 - 256 * scale} ${256 - 256 * scale}) scale(${scale})">${glyph.replace(/^<svg[^>]*>|<\/svg>$/g, '')}</g></svg>`;

const targets: Array<{ file: string; size: number; svg: string }> = [
  { file: 'icon-192.png', size: 192, svg },
  { file: 'icon-512.png', size: 512, svg },
  { file: 'icon-maskable-512.png', size: 512, svg: fullBleed(0.8) },
  { file: 'apple-touch-icon.png', size: 180, svg: fullBleed(0.9) },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  for (const t of targets) {
    const page = await browser.newPage({ viewport: { width: t.size, height: t.size } });
    const data = `data:image/svg+xml;base64,${Buffer.from(t.svg).toString('base64')}`;
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="${data}" width="${t.size}" height="${t.size}"></body></html>`,
    );
    await page.locator('img').evaluate((img: HTMLImageElement) => img.decode());
    writeFileSync(`${pub}${t.file}`, await page.screenshot({ omitBackground: true, type: 'png' }));
    await page.close();
    console.log(`wrote public/${t.file}`);
  }
} finally {
  await browser.close();
}
