/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (fresh profile, no
 * network but the test's servers), the built console, the console's texts for finding controls
 * by their visible names, axe-core injected into pages, and where screenshots go. Without
 * Chromium a browser test skips, saying why, or fails under MCPGATE_TEST_REQUIRE_SERVICES=1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { en } from '../../src/console/src/locales/en.js';
import { zhCN } from '../../src/console/src/locales/zh-CN.js';
import { requireServices } from './databases.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CONSOLE = join(ROOT, 'src', 'console');
/** The Chromium the tests drive (Debian's, unless MCPGATE_CHROMIUM names another). */
export const CHROMIUM = process.env.MCPGATE_CHROMIUM ?? '/usr/bin/chromium';
/** Flags for a headless Chromium that reaches nothing but the test's servers. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** The console's texts, by language, for finding controls by their visible names. */
export const TEXTS = { en, 'zh-CN': zhCN } as const;
export type Lang = keyof typeof TEXTS;

/** Why a browser test cannot run here (undefined: it can); throws when services are required. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

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

/** Build the console unless its build is newer than every source file (a fresh clone has none). */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE, 'dist', 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(CONSOLE)) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(CONSOLE, 'vite.config.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the console failed:\n${r.stdout}\n${r.stderr}`);
}

/** A browser of a test: its profile's context, the first page, the page's uncaught errors. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of `page` (an empty list at the end: the page never failed). */
  pageErrors: string[];
  /** Close the browser and remove its profile. */
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile (its own storage), a window of `width`×`height`
 * (1280×800), the browser language `locale` (en-US), the system colour scheme, and `args`
 * added to the flags (e.g. `--host-resolver-rules=…`).
 */
export async function openBrowser(opts: { width?: number; height?: number; locale?: string; colorScheme?: 'light' | 'dark'; args?: readonly string[] } = {}): Promise<TestBrowser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'mcpgate-chromium-'));
  const locale = opts.locale ?? 'en-US';
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, `--lang=${locale}`, ...(opts.args ?? [])],
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 }, locale, colorScheme: opts.colorScheme ?? 'light',
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    context, page, pageErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

let shots: string | undefined;

/**
 * Log in on the console at `registryUrl` (its login page, texts `T`) as `username`, by pressing
 * Enter in the password field, and wait for the MCP servers page.
 */
export async function logIn(page: Page, registryUrl: string, T: (typeof TEXTS)[Lang], username = 'admin', password = 'admin-password-1'): Promise<void> {
  await page.goto(`${registryUrl}/`);
  await page.getByLabel(T.login.username).fill(username);
  await page.getByLabel(T.login.password).fill(password);
  await page.getByLabel(T.login.password).press('Enter');
  await page.getByRole('heading', { level: 1, name: T.servers.title }).waitFor();
}

/**
 * Where screenshots go: docs/images/ only when asked (MCPGATE_UPDATE_SCREENSHOTS=1), or the
 * directory in MCPGATE_SCREENSHOT_DIR, else a temporary directory (made on first use), so that
 * a test run leaves the work tree clean.
 */
export function screenshotDir(): string {
  shots ??= process.env.MCPGATE_SCREENSHOT_DIR
    ?? (process.env.MCPGATE_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : mkdtempSync(join(tmpdir(), 'mcpgate-shots-')));
  return shots;
}

let axeSource: string | undefined;

/** One serious or critical axe-core finding. */
export interface AxeFinding {
  where: string;
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Run axe-core (every rule it runs by default, plus label-content-name-mismatch) on the page as
 * it is, dialogs included; answers the serious and critical violations.
 */
export async function axeAudit(page: Page, where: string): Promise<AxeFinding[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, so the console's CSP (script-src 'self') does not stop it.
  await page.evaluate(axeSource);
  const results = await page.evaluate<{ id: string; impact: string; help: string; targets: string[] }[]>(`(async () => {
    const r = await window.axe.run(document, { rules: { 'label-content-name-mismatch': { enabled: true } }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact || '', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  })()`);
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ where, rule: v.id, impact: v.impact, help: v.help, targets: v.targets }));
}

/** How far the page scrolls sideways (0: it fits the window). */
export async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}
