// The Gantt chart's data, from GET /projects/{id}/schedule: rows in tree order (parents before
// their children), bars [start, finish] with the inclusive finish drawn to the end of its day,
// baselines when the schedule carries them, milestones as points, and one elbow polyline per
// dependency from the predecessor's anchor (FS/FF: its end; SS/SF: its start) to the successor's
// (FS/SS: its start; FF/SF: its end). Pure: no ECharts, no DOM, so Vitest checks it.
import type { ScheduleTask } from './types'

export const DAY = 86_400_000

export interface GanttRow {
  index: number
  id: string
  name: string
  label: string // indented by depth
  depth: number
  start: number // ms, start of the first day
  end: number // ms, end of the last day (exclusive)
  critical: boolean
  milestone: boolean
  summary: boolean
  progress: number // 0..100
  slack: number
  status: string
  assigneeId: string | null
  startDate: string
  finishDate: string
  baselineStart: number | null
  baselineEnd: number | null
  variance: number | null
}

export interface GanttLink {
  from: string
  to: string
  type: 'FS' | 'SS' | 'FF' | 'SF'
  lag: number
  critical: boolean // both ends critical (on the critical path)
  coords: [number, number][] // [time ms, row index] points of the elbow line
}

export interface GanttModel {
  rows: GanttRow[]
  links: GanttLink[]
  min: number
  max: number
}

/** A local-midnight instant for an ISO date (YYYY-MM-DD); NaN when unreadable. */
export function dayStart(iso: string | null | undefined): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso ?? '')
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : Number.NaN
}

/** Depth-first order over parent_id, keeping the API's order among siblings. */
export function treeOrder<T extends { id: string; parent_id?: string | null }>(tasks: T[]): { task: T; depth: number }[] {
  const ids = new Set(tasks.map((t) => t.id))
  const kids = new Map<string, T[]>()
  const roots: T[] = []
  for (const t of tasks) {
    const p = t.parent_id && ids.has(t.parent_id) && t.parent_id !== t.id ? t.parent_id : null
    if (p) kids.set(p, [...(kids.get(p) ?? []), t])
    else roots.push(t)
  }
  const out: { task: T; depth: number }[] = []
  const seen = new Set<string>()
  const walk = (t: T, depth: number): void => {
    if (seen.has(t.id)) return
    seen.add(t.id)
    out.push({ task: t, depth })
    for (const c of kids.get(t.id) ?? []) walk(c, depth + 1)
  }
  for (const r of roots) walk(r, 0)
  for (const t of tasks) walk(t, 0) // a parent cycle: still show every task once
  return out
}

export function buildGantt(tasks: ScheduleTask[]): GanttModel {
  const rows: GanttRow[] = []
  for (const { task: t, depth } of treeOrder(tasks)) {
    let start = dayStart(t.start)
    let finish = dayStart(t.finish ?? t.start)
    if (Number.isNaN(start) && Number.isNaN(finish)) continue // unscheduled: nothing to draw
    if (Number.isNaN(start)) start = finish
    if (Number.isNaN(finish)) finish = start
    const milestone = Boolean(t.milestone) || t.duration_days === 0
    const end = Math.max(finish + DAY, start + (milestone ? 0 : DAY))
    const bs = dayStart(t.baseline_start)
    const bf = dayStart(t.baseline_finish ?? t.baseline_start)
    rows.push({
      index: rows.length,
      id: t.id,
      name: t.name,
      label: '\u3000'.repeat(depth) + t.name,
      depth,
      start: milestone ? end : start,
      end,
      critical: Boolean(t.critical),
      milestone,
      summary: Boolean(t.summary),
      progress: Math.max(0, Math.min(100, Number(t.progress ?? 0) || 0)),
      slack: Number(t.slack_days ?? 0),
      status: t.status,
      assigneeId: t.assignee_id ?? null,
      startDate: t.start ?? t.finish ?? '',
      finishDate: t.finish ?? t.start ?? '',
      baselineStart: Number.isNaN(bs) ? null : bs,
      baselineEnd: Number.isNaN(bf) ? null : bf + DAY,
      variance: t.finish_variance_days ?? null,
    })
  }
  const byId = new Map(rows.map((r) => [r.id, r]))
  const links: GanttLink[] = []
  const stub = DAY / 3
  for (const t of tasks) {
    const succ = byId.get(t.id)
    if (!succ) continue
    for (const d of t.depends_on ?? []) {
      const pred = byId.get(d.task_id)
      if (!pred) continue
      const fromX = d.type === 'SS' || d.type === 'SF' ? pred.start : pred.end
      const toX = d.type === 'FS' || d.type === 'SS' ? succ.start : succ.end
      // Leave the predecessor sideways, drop to the successor's row, enter it from its side.
      const outX = d.type === 'SS' || d.type === 'SF' ? fromX - stub : fromX + stub
      const inX = d.type === 'FS' || d.type === 'SS' ? toX - stub : toX + stub
      const coords: [number, number][] = [
        [fromX, pred.index],
        [outX, pred.index],
        [outX, (pred.index + succ.index) / 2],
        [inX, (pred.index + succ.index) / 2],
        [inX, succ.index],
        [toX, succ.index],
      ]
      links.push({ from: pred.id, to: succ.id, type: d.type, lag: d.lag_days ?? 0, critical: pred.critical && succ.critical, coords })
    }
  }
  const times = rows.flatMap((r) => [r.start, r.end, r.baselineStart ?? r.start, r.baselineEnd ?? r.end])
  const min = times.length ? Math.min(...times) - DAY : Date.now() - 7 * DAY
  const max = times.length ? Math.max(...times) + DAY : Date.now() + 30 * DAY
  return { rows, links, min, max }
}
