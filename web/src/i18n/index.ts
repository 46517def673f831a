// zh-CN first, English switchable (kept in localStorage). Messages live per language below;
// pages add their keys under their own namespace (e.g. `projects.*`).
import { createI18n } from 'vue-i18n'
import zh from './zh-CN'
import en from './en'
import * as registration from '@/pages/registration/i18n'
import * as projects from '@/pages/projects/i18n'
import * as approvals from '@/pages/approvals/i18n'
import * as work from '@/pages/work/i18n'
import * as dashboard from '@/pages/dashboard/i18n'
import * as admin from '@/pages/admin/i18n'
import * as comments from '@/components/comments/i18n'

const areas = { registration, projects, approvals, work, dashboard, comments, admin }
const zhAll = { ...zh, ...Object.fromEntries(Object.entries(areas).map(([k, v]) => [k, v.zh])) }
const enAll = { ...en, ...Object.fromEntries(Object.entries(areas).map(([k, v]) => [k, v.en])) }

const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('bb_locale') : null
export const i18n = createI18n({
  legacy: false,
  locale: saved === 'en' ? 'en' : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhAll, en: enAll },
  missingWarn: false,
  fallbackWarn: false,
})

export function currentLocale(): 'zh-CN' | 'en' {
  return i18n.global.locale.value === 'en' ? 'en' : 'zh-CN'
}

export function setLocale(locale: 'zh-CN' | 'en'): void {
  i18n.global.locale.value = locale
  localStorage.setItem('bb_locale', locale)
  document.documentElement.lang = locale
}
