import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineConfig, transformWithOxc, type Plugin } from 'vite';
import solid from 'vite-plugin-solid';
import { VitePWA } from 'vite-plugin-pwa';

/** zxcvbn's dictionaries (~0.8 MB gzip) load only on the register/password screens: keep them out of the precache. */
const isZxcvbn = (ids: readonly string[]) => ids.some((id) => id.includes('@zxcvbn-ts'));

/** Compiles the service worker's notification-click handler (src/sw/notifications.ts) to a classic script. */
function swNotifications(): Plugin {
  return {
    name: 'parley-sw-notifications',
    apply: 'build',
    async generateBundle() {
      const file = fileURLToPath(new URL('./src/sw/notifications.ts', import.meta.url));
      const out = await transformWithOxc(await readFile(file, 'utf8'), file, { lang: 'ts' });
      this.emitFile({ type: 'asset', fileName: 'sw-notifications.js', source: out.code });
    },
  };
}

export default defineConfig({
  plugins: [
    solid(),
    swNotifications(),
    VitePWA({
      registerType: 'prompt',
      injectRegister: null,
      includeAssets: ['icon.svg', 'favicon.svg', 'apple-touch-icon.png'],
      manifest: {
        id: '/',
        name: 'Parley',
        short_name: 'Parley',
        description: 'End-to-end-encrypted chat that works offline',
        lang: 'en',
        theme_color: '#2c4f7c',
        background_color: '#f4f6fa',
        display: 'standalone',
        orientation: 'any',
        start_url: '/',
        scope: '/',
        categories: ['social', 'communication'],
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        globIgnores: ['**/zxcvbn-*.js'],
        importScripts: ['sw-notifications.js'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/sync/, /^\/metrics/, /^\/(healthz|readyz)/],
        runtimeCaching: [
          {
            urlPattern: ({ url }) => url.pathname.startsWith('/assets/zxcvbn-'),
            handler: 'CacheFirst',
            options: { cacheName: 'parley-zxcvbn', expiration: { maxEntries: 8 } },
          },
        ],
      },
    }),
  ],
  build: {
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1300, // the lazy zxcvbn dictionary chunk; the initial bundle is measured in docs/app.md
    rolldownOptions: {
      output: {
        chunkFileNames: (chunk) => (isZxcvbn(chunk.moduleIds) ? 'assets/zxcvbn-[hash].js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  worker: { format: 'es' },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/sync': { target: 'ws://127.0.0.1:8080', ws: true } } },
});
