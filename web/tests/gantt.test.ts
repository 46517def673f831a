// The Gantt's data transform (src/pages/projects/gantt.ts): tree order, bar spans with inclusive
// finishes, milestones, baselines, dependency anchors by type, the critical path.
import { describe, expect, it } from 'vitest'
import { buildGantt, dayStart, treeOrder, DAY } from '@/pages/projects/gantt'
import type { ScheduleTask } from '@/pages/projects/types'

const task = (over: Partial<ScheduleTask> & { id: string }): ScheduleTask => ({
  name: over.id, start: null, finish: null, critical: false, slack_days: 0, status: 'todo', ...over,
})

const plan: ScheduleTask[] = [
  task({ id: 'a', name: '需求调研', start: '2026-12-07', finish: '2026-12-11', critical: true, baseline_start: '2026-12-07', baseline_finish: '2026-12-10', finish_variance_days: 1 }),
  task({ id: 'b', name: '方案设计', start: '2026-12-14', finish: '2026-12-23', critical: true, progress: 40, depends_on: [{ task_id: 'a', type: 'FS', lag_days: 0 }] }),
  task({ id: 'c', name: '采购备货', start: '2026-12-09', finish: '2026-12-11', slack_days: 8, depends_on: [{ task_id: 'a', type: 'SS', lag_days: 2 }] }),
  task({ id: 'd', name: '方案评审', start: '2026-12-23', finish: '2026-12-23', critical: true, milestone: true, duration_days: 0,
    depends_on: [{ task_id: 'b', type: 'FS', lag_days: 0 }, { task_id: 'c', type: 'FF', lag_days: 0 }] }),
]

describe('buildGantt', () => {
  it('spans a bar from its first day to the end of its inclusive finish day', () => {
    const m = buildGantt(plan)
    const a = m.rows.find((r) => r.id === 'a')!
    expect(a.start).toBe(dayStart('2026-12-07'))
    expect(a.end - a.start).toBe(5 * DAY)
    expect(a.critical).toBe(true)
    expect(m.rows.find((r) => r.id === 'c')!.critical).toBe(false)
    expect(m.rows.find((r) => r.id === 'c')!.slack).toBe(8)
  })

  it('draws a milestone as a point at the end of its day', () => {
    const d = buildGantt(plan).rows.find((r) => r.id === 'd')!
    expect(d.milestone).toBe(true)
    expect(d.start).toBe(d.end)
    expect(d.end).toBe(dayStart('2026-12-24'))
    const withBaseline = buildGantt([{ ...plan[3], baseline_start: '2026-12-22', baseline_finish: '2026-12-22' }]).rows[0]
    expect(withBaseline.baselineEnd).toBe(dayStart('2026-12-23')) // drawn where the actual one would be
  })

  it('keeps the baseline and its variance when the schedule has one', () => {
    const m = buildGantt(plan)
    const a = m.rows.find((r) => r.id === 'a')!
    expect(a.baselineStart).toBe(dayStart('2026-12-07'))
    expect(a.baselineEnd).toBe(dayStart('2026-12-11'))
    expect(a.variance).toBe(1)
    expect(m.rows.find((r) => r.id === 'b')!.baselineEnd).toBeNull()
  })

  it('anchors dependency arrows by type and marks critical links', () => {
    const m = buildGantt(plan)
    const rows = Object.fromEntries(m.rows.map((r) => [r.id, r]))
    const fs = m.links.find((l) => l.from === 'a' && l.to === 'b')!
    expect(fs.coords[0]).toEqual([rows.a.end, rows.a.index])
    expect(fs.coords.at(-1)).toEqual([rows.b.start, rows.b.index])
    expect(fs.critical).toBe(true)
    const ss = m.links.find((l) => l.from === 'a' && l.to === 'c')!
    expect(ss.type).toBe('SS')
    expect(ss.lag).toBe(2)
    expect(ss.coords[0]).toEqual([rows.a.start, rows.a.index])
    expect(ss.coords.at(-1)).toEqual([rows.c.start, rows.c.index])
    expect(ss.critical).toBe(false)
    const ff = m.links.find((l) => l.from === 'c' && l.to === 'd')!
    expect(ff.coords[0][0]).toBe(rows.c.end)
    expect(ff.coords.at(-1)![0]).toBe(rows.d.end)
    expect(m.links).toHaveLength(4)
  })

  it('pads the time range around every bar and baseline', () => {
    const m = buildGantt(plan)
    expect(m.min).toBe(dayStart('2026-12-06'))
    expect(m.max).toBe(dayStart('2026-12-25'))
  })

  it('skips unscheduled tasks and links to them', () => {
    const m = buildGantt([...plan, task({ id: 'x', depends_on: [{ task_id: 'a', type: 'FS', lag_days: 0 }] })])
    expect(m.rows.map((r) => r.id)).not.toContain('x')
    expect(m.links.some((l) => l.to === 'x')).toBe(false)
  })

  it('is empty but usable without tasks', () => {
    const m = buildGantt([])
    expect(m.rows).toEqual([])
    expect(m.max).toBeGreaterThan(m.min)
  })
})

describe('treeOrder', () => {
  it('puts children right after their parent, indented, in the API order', () => {
    const tasks = [
      { id: 'c1', parent_id: 'p' }, { id: 'p', parent_id: null }, { id: 'q', parent_id: null }, { id: 'c2', parent_id: 'p' }, { id: 'g', parent_id: 'c1' },
    ]
    expect(treeOrder(tasks).map((x) => `${x.task.id}:${x.depth}`)).toEqual(['p:0', 'c1:1', 'g:2', 'c2:1', 'q:0'])
  })

  it('shows every task once even with a parent cycle or an unknown parent', () => {
    const tasks = [{ id: 'a', parent_id: 'b' }, { id: 'b', parent_id: 'a' }, { id: 'c', parent_id: 'zz' }]
    const ids = treeOrder(tasks).map((x) => x.task.id)
    expect(ids.sort()).toEqual(['a', 'b', 'c'])
  })

  it('labels rows by depth in the Gantt', () => {
    const m = buildGantt([task({ id: 'p', start: '2026-12-07', finish: '2026-12-08', summary: true }), task({ id: 'k', name: '子任务', parent_id: 'p', start: '2026-12-07', finish: '2026-12-07' })])
    expect(m.rows.map((r) => r.depth)).toEqual([0, 1])
    expect(m.rows[1].label).toBe('\u3000子任务')
    expect(m.rows[0].summary).toBe(true)
  })
})
