// Pure transforms of the reporting API's answers into ECharts options, summaries for screen
// readers, drill-down links and query strings. No Vue and no ECharts runtime here (types only),
// so Vitest checks them directly (web/tests/dashboard.test.ts).
import type { EChartsCoreOption } from 'echarts/core'

export interface Column {
  key: string
  label: string
  kind: string
}
export interface AnalyticsTable {
  report: string
  title: string
  columns: Column[]
  rows: Record<string, unknown>[]
}

export type ChartKind = 'bar' | 'hbar' | 'line' | 'pie'

/** One analytics chart of the dashboard: which report, grouped how, which columns it plots. */
export interface ChartSpec {
  id: string
  report: 'cycle_times' | 'approval_steps' | 'approvers' | 'cost_distribution' | 'productivity' | 'delay_reasons' | 'conversion' | 'outcomes' | 'lessons'
  kind: ChartKind
  /** Column indices (into the table's columns) plotted as series. */
  values: number[]
  /** Column index of the category label (0 unless said). */
  label?: number
  /** group_by values offered (the first is the default); none: the report's only grouping. */
  groups?: string[]
  /** A fixed group_by (e.g. the monthly trend). */
  groupBy?: string
  /** Unit shown on the value axis (i18n key suffix: days, hours, yuan, count, percent). */
  unit?: string
  /** Show the whole width on desktop. */
  wide?: boolean
}

const PROJECT_GROUPS = ['region', 'business_line', 'department_id', 'owner_id', 'status', 'form_key', 'period']

// Every analytics report of GET /api/v1/reports/analytics/{report} (edge/routes/reports.py REPORTS),
// the conversion report twice: by a dimension and as a monthly trend.
export const CHARTS: ChartSpec[] = [
  { id: 'conversion', report: 'conversion', kind: 'bar', values: [1, 2, 3, 4], groups: ['region', 'business_line', 'department_id', 'owner_id', 'status', 'form_key'], unit: 'count' },
  { id: 'trend', report: 'conversion', kind: 'line', values: [1, 3, 4], groupBy: 'period', unit: 'count' },
  { id: 'cycle_times', report: 'cycle_times', kind: 'bar', values: [2, 5, 8], groups: ['region', 'business_line', 'department_id', 'owner_id', 'form_key', 'period'], unit: 'days' },
  { id: 'approval_steps', report: 'approval_steps', kind: 'hbar', values: [2, 4], unit: 'hours' },
  { id: 'approvers', report: 'approvers', kind: 'bar', values: [1, 5], unit: 'count' },
  { id: 'cost_distribution', report: 'cost_distribution', kind: 'pie', values: [2], groups: ['business_line', 'region', 'department_id', 'form_key', 'period'], unit: 'yuan' },
  { id: 'productivity', report: 'productivity', kind: 'bar', values: [1, 2, 6], groups: ['assignee_id', 'department_id'], unit: 'count' },
  { id: 'delay_reasons', report: 'delay_reasons', kind: 'pie', values: [2], label: 1, unit: 'count' },
  // closing reviews (复盘): reviewed projects per outcome (or dimension), lessons per tag
  { id: 'outcomes', report: 'outcomes', kind: 'bar', values: [1, 5], groups: ['outcome', 'business_line', 'region', 'department_id', 'owner_id', 'form_key', 'period'], unit: 'count' },
  { id: 'lessons', report: 'lessons', kind: 'pie', values: [1], groups: ['tag', 'outcome'], unit: 'count' },
]

export const PALETTE = ['#1f5fbf', '#2e9d6a', '#d48806', '#c62828', '#6a4fb3', '#0e8a8a', '#8c6d1f', '#b0477f']
export const HEALTH_COLORS: Record<string, string> = { green: '#2e7d32', amber: '#d48806', red: '#c62828' }
export const NONE_LABEL = '（未填）'

/** A number from a table cell: "1,234.50", "12.5%", "3" → number; "" / null / junk → null. */
export function num(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value !== 'string') return null
  const s = value.replace(/[,\s¥%]/g, '')
  if (s === '') return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

export interface Points {
  /** The category as the API sent it (used for drill-down). */
  raw: string[]
  /** The category as shown (names instead of ids). */
  labels: string[]
  series: { key: string; name: string; data: (number | null)[] }[]
}

/** The plotted data of a table: categories and one series per value column. */
export function toPoints(
  table: AnalyticsTable,
  spec: Pick<ChartSpec, 'values' | 'label'>,
  nameOf: (raw: string) => string = (r) => r,
  columnName: (c: Column) => string = (c) => c.label,
): Points {
  const labelCol = table.columns[spec.label ?? 0]
  const cols = spec.values.map((i) => table.columns[i]).filter((c): c is Column => !!c)
  const raw = labelCol ? table.rows.map((r) => String(r[labelCol.key] ?? '')) : []
  return {
    raw,
    labels: raw.map((r) => (r === '' ? NONE_LABEL : nameOf(r))),
    series: cols.map((c) => ({ key: c.key, name: columnName(c), data: table.rows.map((r) => num(r[c.key])) })),
  }
}

/** Nothing to draw: no rows, no numbers (a pie also needs a value above zero; a zero bar is data). */
export function isEmpty(p: Points, kind: ChartKind = 'bar'): boolean {
  const blank = (v: number | null) => v === null || (kind === 'pie' && v <= 0)
  return p.raw.length === 0 || p.series.every((s) => s.data.every(blank))
}

const AXIS_LABEL = { color: '#4e5969', fontSize: 12 }
const TOOLTIP = { confine: true }

/** Shorten long category names on the axis (the tooltip and table keep the whole name). */
export function short(label: string, max = 8): string {
  return label.length > max ? label.slice(0, max - 1) + '…' : label
}

export function chartOption(p: Points, kind: ChartKind, opts: { compact?: boolean; unit?: string; integer?: boolean } = {}): EChartsCoreOption {
  const compact = !!opts.compact
  if (kind === 'pie') {
    const s = p.series[0]
    const data = p.labels.map((name, i) => ({ name, value: s?.data[i] ?? 0 })).filter((d) => (d.value ?? 0) > 0)
    return {
      color: PALETTE,
      tooltip: { ...TOOLTIP, trigger: 'item', valueFormatter: (v: unknown) => fmtNumber(v) },
      legend: { type: 'scroll', bottom: 0, textStyle: AXIS_LABEL },
      series: [
        {
          type: 'pie',
          name: s?.name ?? '',
          radius: compact ? ['35%', '62%'] : ['40%', '68%'],
          center: ['50%', '45%'],
          avoidLabelOverlap: true,
          label: { show: !compact, formatter: '{b}\n{d}%', color: '#1d2129' },
          data,
        },
      ],
    }
  }
  // One month of a trend is a bar (a line needs two points to say anything).
  if (kind === 'line' && p.labels.length < 2) kind = 'bar'
  const horizontal = kind === 'hbar'
  const category = {
    type: 'category',
    data: p.labels,
    axisLabel: { ...AXIS_LABEL, interval: 0, rotate: !horizontal && compact && p.labels.length > 3 ? 30 : 0, formatter: (v: string) => short(v, compact ? 8 : 12) },
    axisTick: { alignWithLabel: true },
  }
  const value = { type: 'value', name: horizontal ? '' : (opts.unit ?? ''), nameTextStyle: AXIS_LABEL, minInterval: opts.integer ? 1 : 0, axisLabel: AXIS_LABEL, splitLine: { lineStyle: { color: '#e5e6eb' } } }
  return {
    color: PALETTE,
    tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: kind === 'line' ? 'line' : 'shadow' } },
    legend: { top: 0, type: 'scroll', textStyle: AXIS_LABEL },
    grid: { left: 8, right: horizontal ? 28 : 16, top: 52, bottom: 8, containLabel: true },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: p.series.map((s) => ({
      type: kind === 'line' ? 'line' : 'bar',
      name: s.name,
      data: s.data,
      smooth: kind === 'line',
      barMaxWidth: 28,
      emphasis: { focus: 'series' },
      cursor: 'pointer',
    })),
  }
}

function fmtNumber(v: unknown): string {
  const n = typeof v === 'number' ? v : num(v)
  return n === null ? '—' : n.toLocaleString('zh-CN', { maximumFractionDigits: 2 })
}

/** A sentence for screen readers: what the chart shows and its biggest values. */
export function summary(title: string, p: Points, en = false): string {
  if (isEmpty(p)) return en ? `${title}: no data` : `${title}：暂无数据`
  const parts = p.series.slice(0, 3).map((s) => {
    let best = -1
    s.data.forEach((v, i) => {
      if (v !== null && (best < 0 || v > (s.data[best] ?? -Infinity))) best = i
    })
    return best < 0 ? '' : en ? `${s.name} highest: ${p.labels[best]} ${fmtNumber(s.data[best])}` : `${s.name}最高为${p.labels[best]}（${fmtNumber(s.data[best])}）`
  })
  const head = en ? `${title}: ${p.labels.length} groups` : `${title}：共 ${p.labels.length} 组`
  return [head, ...parts.filter(Boolean)].join(en ? '; ' : '；')
}

// The project list reads these query parameters (the contract's list filters).
export const DRILLABLE = ['status', 'region', 'business_line', 'department_id', 'owner_id'] as const

/** Where a click on a category leads: the project list filtered to it, or null when it cannot. */
export function drillTo(groupBy: string, raw: string, base: Record<string, string> = {}): { path: string; query: Record<string, string> } | null {
  if (!(DRILLABLE as readonly string[]).includes(groupBy) || !raw || raw === NONE_LABEL) return null
  return { path: '/projects', query: { ...base, [groupBy]: raw } }
}

export interface Filters {
  department_id: string | null
  region: string
  business_line: string
  owner_id: string | null
  status: string
  from: string // YYYY-MM-DD or ''
  to: string
}

export function emptyFilters(): Filters {
  return { department_id: null, region: '', business_line: '', owner_id: null, status: '', from: '', to: '' }
}

/** Query parameters for the reports (portfolio, analytics): only what is set. */
export function reportQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {}
  for (const k of ['department_id', 'region', 'business_line', 'owner_id', 'status', 'from', 'to'] as const) {
    const v = f[k]
    if (v) q[k] = v.trim()
  }
  return q
}

/** Query parameters for the project list and its export (`created_from`/`created_to` for the dates). */
export function listQuery(f: Filters): Record<string, string> {
  const q = reportQuery(f)
  if (q.from) {
    q.created_from = q.from
    delete q.from
  }
  if (q.to) {
    q.created_to = q.to
    delete q.to
  }
  return q
}

/** Filters back from the page URL (?region=华东&from=2026-01-01…), ignoring anything else. */
export function filtersFrom(query: Record<string, unknown>): Filters {
  const f = emptyFilters()
  const s = (v: unknown) => (typeof v === 'string' ? v : '')
  f.department_id = s(query.department_id) || null
  f.owner_id = s(query.owner_id) || null
  f.region = s(query.region)
  f.business_line = s(query.business_line)
  f.status = s(query.status)
  f.from = /^\d{4}-\d{2}-\d{2}$/.test(s(query.from)) ? s(query.from) : ''
  f.to = /^\d{4}-\d{2}-\d{2}$/.test(s(query.to)) ? s(query.to) : ''
  return f
}

const HEALTH_RANK: Record<string, number> = { red: 0, amber: 1, green: 2 }

/** Red first, then amber, then green; within one colour the bigger amount first. */
export function byHealth<T extends { health: string; amount?: string | null }>(items: T[]): T[] {
  return [...items].sort(
    (a, b) => (HEALTH_RANK[a.health] ?? 3) - (HEALTH_RANK[b.health] ?? 3) || (num(b.amount) ?? 0) - (num(a.amount) ?? 0),
  )
}

/** The status distribution (portfolio.by_status) as a doughnut; data items carry the status key. */
export function statusOption(byStatus: Record<string, number>, labelOf: (s: string) => string, compact = false): EChartsCoreOption {
  const order = ['draft', 'pending_approval', 'returned', 'active', 'closed', 'rejected', 'cancelled']
  const keys = Object.keys(byStatus).sort((a, b) => (order.indexOf(a) + 99) % 99 - ((order.indexOf(b) + 99) % 99))
  const colors: Record<string, string> = {
    draft: '#8a8f99', pending_approval: '#d48806', returned: '#b0477f', active: '#1f5fbf', closed: '#0e8a8a', rejected: '#c62828', cancelled: '#5a5f69',
  }
  const data = keys.filter((k) => byStatus[k] > 0).map((k) => ({ name: labelOf(k), value: byStatus[k], status: k, itemStyle: { color: colors[k] ?? '#6a4fb3' } }))
  return {
    tooltip: { ...TOOLTIP, trigger: 'item' },
    legend: { type: 'scroll', bottom: 0, textStyle: AXIS_LABEL },
    series: [{ type: 'pie', radius: compact ? ['35%', '60%'] : ['42%', '68%'], center: ['50%', '44%'], label: { show: !compact, formatter: '{b} {c}', color: '#1d2129' }, cursor: 'pointer', data }],
  }
}

/** Health counts (portfolio.by_health) as coloured bars, green → red. */
export function healthOption(byHealth: Record<string, number>, labelOf: (h: string) => string): EChartsCoreOption {
  const keys = ['green', 'amber', 'red']
  return {
    tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: keys.map(labelOf), axisLabel: AXIS_LABEL },
    yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL, splitLine: { lineStyle: { color: '#e5e6eb' } } },
    series: [{ type: 'bar', barMaxWidth: 48, cursor: 'pointer', data: keys.map((k) => ({ value: byHealth[k] ?? 0, health: k, itemStyle: { color: HEALTH_COLORS[k] } })) }],
  }
}

/** A file name from Content-Disposition (RFC 6266 filename* or filename), else the fallback. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const star = disposition.match(/filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through */
    }
  }
  const plain = disposition.match(/filename\s*=\s*"?([^";]+)"?/i)
  return plain ? plain[1].trim() : fallback
}

export { PROJECT_GROUPS }
