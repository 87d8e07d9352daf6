/** QR codes as SVG data URLs (for `<img src>`: the CSP allows `data:` images, and nothing is injected as HTML). */

/** An `image/svg+xml` data URL of a QR code of `text` (the encoder loads on first use). */
export async function qrDataUrl(text: string): Promise<string> {
  const { toString } = await import('qrcode');
  const svg = await toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
