// @ts-check
// Builds the console into src/console/dist, which the registry serves at `/` (see
// src/registry/http/console/static-files.ts). `npm run build:console` runs it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npm run dev:console` with `npm run dev` beside it: the API is the registry's.
    proxy: { '/api': 'http://127.0.0.1:8848' },
  },
});
