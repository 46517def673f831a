// The work area's pure helpers: due-date buckets, overdue, ordering, sizes.
import { describe, expect, it } from 'vitest'
import { byDue, daysLeft, dueBucket, fileSize, groupByDue, isOverdue, offeredChannels, todayIso } from '@/pages/work/api'

const today = '2026-03-10'
const task = (name: string, due: string | null, status: 'todo' | 'in_progress' | 'done' | 'blocked' = 'todo') => ({ name, due, status })

describe('work helpers', () => {
  it('counts days to the due date across months', () => {
    expect(daysLeft('2026-03-10', today)).toBe(0)
    expect(daysLeft('2026-03-09', today)).toBe(-1)
    expect(daysLeft('2026-04-01', today)).toBe(22)
    expect(daysLeft(null, today)).toBeNull()
  })

  it('a task is overdue only when not done and its due date has passed', () => {
    expect(isOverdue(task('a', '2026-03-09'), today)).toBe(true)
    expect(isOverdue(task('a', '2026-03-09', 'done'), today)).toBe(false)
    expect(isOverdue(task('a', '2026-03-10'), today)).toBe(false)
    expect(isOverdue(task('a', null), today)).toBe(false)
  })

  it('buckets and groups by due date, overdue first, empty groups left out', () => {
    expect(dueBucket(task('a', '2026-03-01'), today)).toBe('overdue')
    expect(dueBucket(task('a', '2026-03-10'), today)).toBe('today')
    expect(dueBucket(task('a', '2026-03-17'), today)).toBe('week')
    expect(dueBucket(task('a', '2026-03-18'), today)).toBe('later')
    expect(dueBucket(task('a', null), today)).toBe('none')
    expect(dueBucket(task('a', '2026-03-01', 'done'), today)).toBe('done')
    const groups = groupByDue([task('x', null), task('b', '2026-03-02'), task('a', '2026-03-01'), task('c', '2026-04-01')], today)
    expect(groups.map((g) => g.key)).toEqual(['overdue', 'later', 'none'])
    expect(groups[0].items.map((x) => x.name)).toEqual(['a', 'b'])
  })

  it('orders by due date with undated tasks last', () => {
    expect(byDue([task('n', null), task('b', '2026-03-02'), task('a', '2026-03-02')]).map((x) => x.name)).toEqual(['a', 'b', 'n'])
  })

  it('formats sizes and today', () => {
    expect(fileSize(512)).toBe('512 B')
    expect(fileSize(2048)).toBe('2.0 KB')
    expect(fileSize(3 * 1024 * 1024)).toBe('3.0 MB')
    expect(todayIso(new Date(2026, 0, 5, 12))).toBe('2026-01-05')
  })

  it('offers enterprise app channels once enabled, and keeps ones already chosen', () => {
    expect(offeredChannels(undefined, [])).toEqual(['email', 'dingtalk', 'wecom'])
    expect(offeredChannels(['email', 'dingtalk', 'wecom', 'feishu_app'], [])).toEqual(['email', 'dingtalk', 'wecom', 'feishu_app'])
    expect(offeredChannels(['email', 'dingtalk', 'wecom'], ['dingtalk_app'])).toEqual(['email', 'dingtalk', 'wecom', 'dingtalk_app'])
  })
})
