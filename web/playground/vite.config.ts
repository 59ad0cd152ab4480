import path from 'node:path';
import { defineConfig } from 'vite';

/**
 * The playground's build: web/playground → dist/playground, which the server serves at `/`
 * (src/http/routes/playground.ts). `npm run build` (and so `npm install`) runs it.
 */
export const playgroundOutDir = path.resolve(import.meta.dirname, '../../dist/playground');

export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs: the page also works behind a proxy that serves the API under a path prefix.
  base: './',
  build: {
    outDir: playgroundOutDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
  // `npm run dev:playground`: the page with live reload, its API calls passed on to a running server.
  server: {
    proxy: Object.fromEntries(['/v3', '/openapi.json'].map((path) => [path, process.env.WAN_API_URL ?? 'http://127.0.0.1:8080'])),
  },
  logLevel: 'warn',
});
