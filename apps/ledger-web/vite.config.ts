import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The console: built into dist/apps/ledger-web, which the API serves at `/`. Hashed file names
 * under /assets (cached for a year by the server); no inline script, so the page runs under a
 * CSP of `script-src 'self'`.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  resolve: { alias: { '@credit-ledger/client': here('../../packages/client/src/index.ts') } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: here('../../dist/apps/ledger-web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
