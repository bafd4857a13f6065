/**
 * Translations with i18next: one catalogue per language (locales/*.json), the
 * language taken from the browser on first visit and switchable (kept in
 * localStorage). Dates and numbers are formatted for the chosen language.
 */
import i18next from 'i18next';
import { useSyncExternalStore } from 'react';
import en from './locales/en.json';
import de from './locales/de.json';
import nl from './locales/nl.json';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'nl', name: 'Nederlands' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

const STORAGE_KEY = 'rollcall.language';

function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.some((l) => l.code === stored)) return stored as Language;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (LANGUAGES.some((l) => l.code === base)) return base as Language;
  }
  return 'en';
}

export const i18n = i18next.createInstance();
void i18n.init({
  resources: { en: { translation: en }, de: { translation: de }, nl: { translation: nl } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  initAsync: false,
});
document.documentElement.lang = i18n.language;

export function setLanguage(code: Language): void {
  localStorage.setItem(STORAGE_KEY, code);
  void i18n.changeLanguage(code);
  document.documentElement.lang = code;
}

function subscribe(notify: () => void): () => void {
  i18n.on('languageChanged', notify);
  return () => i18n.off('languageChanged', notify);
}

/** The translate function and the current language; components re-render when it changes. */
export function useT() {
  const language = useSyncExternalStore(subscribe, () => i18n.language) as Language;
  const t = (key: string, values?: Record<string, unknown>) => i18n.t(key, values) as string;
  return { t, language };
}

export function formatDateTime(iso: string | null | undefined, language: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

export function formatDay(day: string, language: string): string {
  return new Intl.DateTimeFormat(language, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}

export function formatNumber(n: number, language: string, digits = 0): string {
  return new Intl.NumberFormat(language, { maximumFractionDigits: digits }).format(n);
}
