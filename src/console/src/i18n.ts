/**
 * Languages of the console: English and Simplified Chinese (i18next + react-i18next). The
 * choice is remembered in localStorage; the first visit follows the browser's language.
 * Dates and numbers are formatted for the language shown (Intl).
 */
import i18n from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { initReactI18next } from 'react-i18next';
import { en } from './locales/en.js';
import { zhCN } from './locales/zh-CN.js';

/** The languages offered, each named in itself. */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

/** Where the chosen language is remembered. */
export const LANGUAGE_KEY = 'mcpgate.console.lang';

/** Any Chinese browser language counts as zh-CN; anything else is English. */
export function supportedLanguage(lng: string | undefined): Language {
  return lng && /^zh\b/i.test(lng) ? 'zh-CN' : 'en';
}

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
    supportedLngs: ['en', 'zh-CN'],
    fallbackLng: 'en',
    load: 'currentOnly',
    interpolation: { escapeValue: false },
    returnNull: false,
    detection: {
      order: ['localStorage', 'navigator'],
      lookupLocalStorage: LANGUAGE_KEY,
      caches: ['localStorage'],
      convertDetectedLanguage: (lng: string) => supportedLanguage(lng),
    },
  });

function syncDocument(lng: string): void {
  document.documentElement.lang = supportedLanguage(lng);
}
syncDocument(i18n.language);
i18n.on('languageChanged', syncDocument);

/** The language shown now. */
export function currentLanguage(): Language {
  return supportedLanguage(i18n.resolvedLanguage ?? i18n.language);
}

/** Switch language (remembered for the next visits). */
export function setLanguage(lng: Language): void {
  void i18n.changeLanguage(lng);
}

/** A date and time in the language shown ('—' for none). */
export function formatDateTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}

/** A number in the language shown. */
export function formatNumber(n: number): string {
  return new Intl.NumberFormat(currentLanguage()).format(n);
}

/** How long ago, in words of the language shown (`3 min ago`, `3分钟前`); a date after a day. */
export function formatAgo(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return '—';
  const s = Math.round((now - ms) / 1000);
  const rtf = new Intl.RelativeTimeFormat(currentLanguage(), { numeric: 'auto', style: 'short' });
  if (s < 5) return rtf.format(0, 'second');
  if (s < 60) return rtf.format(-s, 'second');
  if (s < 3600) return rtf.format(-Math.floor(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.floor(s / 3600), 'hour');
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium' }).format(ms);
}

export { i18n };
