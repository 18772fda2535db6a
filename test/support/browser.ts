/**
 * Browser tests of the console: Playwright (playwright-core) drives Debian's Chromium against
 * the built console. Without /usr/bin/chromium a test skips, or fails under
 * MCPGATE_TEST_REQUIRE_SERVICES=1 (CI installs it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { requireServices } from './databases.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CONSOLE = join(ROOT, 'src', 'console');
/** The Chromium the tests drive (Debian's, unless MCPGATE_CHROMIUM names another). */
export const CHROMIUM = process.env.MCPGATE_CHROMIUM ?? '/usr/bin/chromium';
/** Flags for a headless Chromium that reaches nothing but the test's servers. */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'dist' || name === 'node_modules') continue;
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** Build the console unless its build is newer than every source file. */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE, 'dist', 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(CONSOLE)) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(CONSOLE, 'vite.config.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the console failed:\n${r.stdout}\n${r.stderr}`);
}

/** Why a browser test cannot run here (undefined: it can); throws when services are required. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/** A fresh Chromium profile at 1280×800; collects uncaught page errors. Call `close` when done. */
export async function openBrowser(): Promise<{ page: Page; context: BrowserContext; pageErrors: string[]; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'mcpgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    page, context, pageErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go: docs/images/ with MCPGATE_UPDATE_SCREENSHOTS=1, MCPGATE_SCREENSHOT_DIR, else a temporary directory. */
export function screenshotDir(): string {
  return process.env.MCPGATE_SCREENSHOT_DIR
    ?? (process.env.MCPGATE_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : mkdtempSync(join(tmpdir(), 'mcpgate-shots-')));
}
