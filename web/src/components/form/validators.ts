// Client-side checks mirroring the registry's (services/registry/forms.py `_check_value`,
// services/registry/uscc.py, services/registry/domain.py): the server stays the authority; these
// only spare a round trip. Messages come back as [zh, en] like the server's FieldViolation.
import type { FormFieldDef } from './types'

export type Problem = [zh: string, en: string] | null

// ---------- USCC (统一社会信用代码, GB 32100-2015) ----------
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
const USCC_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/

export function normaliseUscc(code: string): string {
  return code.trim().toUpperCase()
}

/** The check character for the first 17 characters of a code (throws on a bad alphabet/length). */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17) throw new Error('need 17 characters of the USCC alphabet')
  let total = 0
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i])
    if (v < 0) throw new Error('need 17 characters of the USCC alphabet')
    total += v * USCC_WEIGHTS[i]
  }
  return USCC_ALPHABET[(31 - (total % 31)) % 31]
}

/** True for a well-formed code whose check character matches (case-insensitive, trimmed). */
export function isValidUscc(code: string): boolean {
  const c = normaliseUscc(code)
  if (c.length !== 18 || !USCC_SHAPE.test(c)) return false
  return usccCheckChar(c.slice(0, 17)) === c[17]
}

// ---------- phone, e-mail ----------
const MOBILE = /^1[3-9]\d{9}$/
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s.]+$/

export function isMobile(text: string): boolean {
  return MOBILE.test(text.trim())
}

export function isEmail(text: string): boolean {
  return EMAIL.test(text.trim())
}

// ---------- values ----------
export function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && !value.trim()) || (Array.isArray(value) && value.length === 0)
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/
const MONEY_LIMIT = 1e16

/** A decimal from a number or a decimal string; null otherwise (as `parse_decimal`). */
export function parseDecimal(value: unknown): number | null {
  if (typeof value === 'boolean') return null
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'string' && DECIMAL.test(value.trim())) return Number(value.trim())
  return null
}

export function centsOnly(value: unknown): boolean {
  const s = typeof value === 'number' ? String(value) : String(value).trim()
  if (/e/i.test(s)) return Number.isInteger(Number(s) * 100)
  const dot = s.indexOf('.')
  return dot < 0 || s.slice(dot + 1).replace(/0+$/, '').length <= 2
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
export function isIsoDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false
  const d = new Date(text + 'T00:00:00Z')
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text
}

function range(f: FormFieldDef, v: number | string): Problem {
  const bound = (b: unknown): number | string | null => {
    if (b === null || b === undefined || b === '') return null
    return f.type === 'date' ? String(b) : parseDecimal(b)
  }
  const lo = bound(f.min)
  const hi = bound(f.max)
  if (lo !== null && v < lo) return [`不能小于 ${f.min}`, `must be at least ${f.min}`]
  if (hi !== null && v > hi) return [`不能大于 ${f.max}`, `must be at most ${f.max}`]
  return null
}

function length(f: FormFieldDef, n: number): Problem {
  if (f.min_length != null && n < f.min_length) return [`长度不能少于 ${f.min_length}`, `length must be at least ${f.min_length}`]
  if (f.max_length != null && n > f.max_length) return [`长度不能超过 ${f.max_length}`, `length must be at most ${f.max_length}`]
  return null
}

function fullMatch(pattern: string, text: string): boolean | null {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u').test(text)
  } catch {
    try {
      return new RegExp(`^(?:${pattern})$`).test(text)
    } catch {
      return null // a Python-only pattern: leave it to the server
    }
  }
}

/** The problem with a non-empty value of field `f` (labelled as the server does), or null. */
export function checkValue(f: FormFieldDef, value: unknown): Problem {
  const p = checkRaw(f, value)
  const label = f.label || f.key
  return p ? [`${label}：${p[0]}`, `${label}: ${p[1]}`] : null
}

function checkRaw(f: FormFieldDef, value: unknown): Problem {
  const t = f.type
  if (t === 'attachment') {
    const ids = Array.isArray(value) ? value : [value]
    if (!ids.length || !ids.every((i) => typeof i === 'string' && i.trim())) return ['必须是附件 ID', 'must be attachment ids']
    return null
  }
  if (t === 'multiselect') {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return ['必须是选项列表', 'must be a list of options']
    const opts = (f.options ?? []).map(String)
    const bad = value.filter((v) => !opts.includes(v))
    if (bad.length) return [`不在可选项中：${bad.join('、')}`, `not among the options: ${bad.join(', ')}`]
    return length(f, value.length)
  }
  if (t === 'number' || t === 'money') {
    const d = parseDecimal(value)
    if (d === null) return t === 'number' ? ['必须是数字', 'must be a number'] : ['必须是金额', 'must be an amount']
    if (Math.abs(d) >= MONEY_LIMIT) return ['数值过大', 'value is too large']
    if (t === 'money' && !centsOnly(value)) return ['金额最多两位小数', 'at most 2 decimal places']
    return range(f, d)
  }
  if (typeof value !== 'string') return ['必须是文本', 'must be a string']
  const text = value.trim()
  let p: Problem = null
  if (t === 'date') p = isIsoDate(text) ? range(f, text) : ['必须是 ISO 日期（YYYY-MM-DD）', 'must be an ISO date (YYYY-MM-DD)']
  else if (t === 'select' && !(f.options ?? []).map(String).includes(text)) p = ['不在可选项中', 'not among the options']
  else if (t === 'phone' && !isMobile(text)) p = ['必须是有效的中国大陆手机号', 'must be a valid mainland-China mobile number']
  else if (t === 'email' && !isEmail(text)) p = ['必须是有效的电子邮箱', 'must be a valid e-mail address']
  else if (t === 'uscc' && !isValidUscc(text)) p = ['统一社会信用代码无效', 'invalid unified social credit code']
  if (!p) p = length(f, [...text].length)
  if (!p && f.pattern && fullMatch(f.pattern, text) === false) p = ['格式不符合要求', 'does not match the required pattern']
  return p
}

/** "… 为必填项" as the server words it. */
export function requiredProblem(f: FormFieldDef): Problem {
  const label = f.label || f.key
  return [`${label} 为必填项`, `${label} is required`]
}

/** A file against an attachment field's accept list and size cap (as `accepts`). */
export function checkFile(f: FormFieldDef, file: { name: string; type: string; size: number }): Problem {
  if (f.max_size != null && file.size > f.max_size) {
    return [`附件 ${file.name} 超过大小上限 ${f.max_size} 字节`, `${file.name} exceeds ${f.max_size} bytes`]
  }
  if (f.accept?.length) {
    const name = file.name.toLowerCase()
    const ctype = (file.type || 'application/octet-stream').toLowerCase()
    const ok = f.accept.some((raw) => {
      const a = raw.toLowerCase().trim()
      return (a.startsWith('.') && name.endsWith(a)) || a === ctype || (a.endsWith('/*') && ctype.startsWith(a.slice(0, -1)))
    })
    if (!ok) return [`附件 ${file.name} 的类型不允许`, `file type of ${file.name} is not allowed`]
  }
  return null
}
