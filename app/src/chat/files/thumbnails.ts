/**
 * Image thumbnails made on this device ([FILE-9]): decode with `createImageBitmap`, draw at most
 * `THUMB_MAX_PX` on the longer side, encode WebP (JPEG where the browser cannot encode WebP). The result is
 * encrypted and uploaded as its own blob by the client core; nothing here touches keys or the network.
 */

/** Longest side of a thumbnail, in pixels. */
export const THUMB_MAX_PX = 320;
/** Larger files are not decoded for a thumbnail (decoding cost and memory); they show as a file card. */
export const THUMB_SOURCE_MAX_BYTES = 40 * 1024 * 1024;

/** Raster image types this app decodes and previews inline. Anything else (SVG included) is a file card. */
export const PREVIEWABLE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);
/** Types a received thumbnail may have (what `makeThumbnail` produces). */
export const THUMB_TYPES: ReadonlySet<string> = new Set(['image/webp', 'image/jpeg', 'image/png']);

/** A thumbnail and the pixel size of the full image. */
export interface Thumbnail {
  data: Uint8Array;
  type: string;
  width: number;
  height: number;
}

async function encode(width: number, height: number, draw: (ctx: CanvasDrawImage) => void): Promise<Blob | null> {
  const attempts = ['image/webp', 'image/jpeg'];
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    draw(ctx);
    for (const type of attempts) {
      const blob = await canvas.convertToBlob({ type, quality: 0.8 });
      if (blob.type === type) return blob;
    }
    return null;
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  draw(ctx);
  for (const type of attempts) {
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.8));
    if (blob?.type === type) return blob;
  }
  return null;
}

/**
 * Makes a thumbnail of `file` when it is a previewable raster image, else resolves `undefined` (also when
 * the browser cannot decode it: the file is then sent as a plain file). Never throws.
 */
export async function makeThumbnail(file: Blob): Promise<Thumbnail | undefined> {
  if (!PREVIEWABLE_TYPES.has(file.type) || file.size > THUMB_SOURCE_MAX_BYTES || typeof createImageBitmap !== 'function') return undefined;
  let bitmap: ImageBitmap | undefined;
  try {
    bitmap = await createImageBitmap(file);
    const { width, height } = bitmap;
    if (width < 1 || height < 1) return undefined;
    const scale = Math.min(1, THUMB_MAX_PX / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const source = bitmap;
    const blob = await encode(w, h, (ctx) => ctx.drawImage(source, 0, 0, w, h));
    if (!blob) return undefined;
    return { data: new Uint8Array(await blob.arrayBuffer()), type: blob.type, width: Math.min(width, 65_535), height: Math.min(height, 65_535) };
  } catch {
    return undefined; // not decodable here: sent as a plain file
  } finally {
    bitmap?.close();
  }
}

/** Human-readable byte count ("1.4 MB"). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
