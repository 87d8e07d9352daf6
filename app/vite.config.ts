import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  plugins: [
    solid(),
    VitePWA({
      registerType: 'prompt',
      injectRegister: null,
      includeAssets: ['icon.svg', 'favicon.svg'],
      manifest: {
        name: 'Parley',
        short_name: 'Parley',
        description: 'End-to-end-encrypted chat that works offline',
        theme_color: '#2c4f7c',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: { globPatterns: ['**/*.{js,css,html,svg,webmanifest}'], navigateFallbackDenylist: [/^\/api\//, /^\/sync/] },
    }),
  ],
  build: { target: 'es2022', sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/sync': { target: 'ws://127.0.0.1:8080', ws: true } } },
});
