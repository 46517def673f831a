// Display helpers: money in CNY with grouping, dates in the viewer's zone, relative waits.
export function money(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  const n = Number(value)
  if (!Number.isFinite(n)) return String(value)
  // The sign before the currency: -¥20,000.00, not ¥-20,000.00.
  return (n < 0 ? '-¥' : '¥') + Math.abs(n).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

export function dateTime(value: unknown): string {
  if (!value) return '—'
  const d = new Date(String(value))
  if (Number.isNaN(d.getTime())) return String(value)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function date(value: unknown): string {
  return value ? dateTime(value).slice(0, 10) : '—'
}

/** "3 小时" / "2 天" since an instant, relative to `now` (passed in for tests). */
export function since(value: unknown, now: Date = new Date(), en = false): string {
  if (!value) return ''
  const ms = now.getTime() - new Date(String(value)).getTime()
  const mins = Math.max(0, Math.round(ms / 60000))
  if (mins < 60) return en ? `${mins} min` : `${mins} 分钟`
  const hours = Math.round(mins / 60)
  if (hours < 48) return en ? `${hours} h` : `${hours} 小时`
  return en ? `${Math.round(hours / 24)} d` : `${Math.round(hours / 24)} 天`
}

// A value of a form field as people read it (a change's before/after): lists joined with 、,
// objects by their name (an attachment, a person) or their values, never as JSON.
export function plain(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (Array.isArray(value)) return value.map(plain).join('、')
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>
    if (typeof o.name === 'string') return o.name
    return Object.values(o).map(plain).join('，')
  }
  if (typeof value === 'boolean') return value ? '是' : '否'
  return String(value)
}
