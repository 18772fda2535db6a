/**
 * What the console's browser tests share: the built console, Debian's Chromium through
 * playwright-core, axe-core injected into pages, and where screenshots go.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { en } from '../../src/console/src/locales/en.js';
import { zhCN } from '../../src/console/src/locales/zh-CN.js';
import { requireServices } from './databases.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CONSOLE = join(ROOT, 'src', 'console');
export const CHROMIUM = process.env.MCPGATE_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** The console's texts, by language, for finding controls by their visible names. */
export const TEXTS = { en, 'zh-CN': zhCN } as const;
export type Lang = keyof typeof TEXTS;

/**
 * Where screenshots go: docs/images/ only when asked (MCPGATE_UPDATE_SCREENSHOTS=1, or a directory
 * in MCPGATE_SCREENSHOT_DIR), so that a test run leaves the work tree clean.
 */
export const SHOTS = process.env.MCPGATE_SCREENSHOT_DIR
  ?? (process.env.MCPGATE_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : mkdtempSync(join(tmpdir(), 'mcpgate-shots-')));

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

/** Why the browser tests cannot run here (undefined: they can); a failure under MCPGATE_TEST_REQUIRE_SERVICES=1. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/** A fresh browser profile (its own storage) with the given window and browser language. */
export async function openBrowser(opts: { width?: number; height?: number; locale?: string; colorScheme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'mcpgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: [...FLAGS, `--lang=${opts.locale ?? 'en-US'}`], viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    locale: opts.locale ?? 'en-US', colorScheme: opts.colorScheme ?? 'light',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  return {
    context, page,
    close: async () => {
      await context.close();
      const { rmSync } = await import('node:fs');
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

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
  // Evaluated through the DevTools protocol, so the console's CSP (script-src 'self') does not stop it.
  await page.evaluate(AXE);
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
