// The dashboard's pure transforms: API tables → chart data and ECharts options, summaries,
// drill-down targets, filter query strings, health ordering, download names.
import { describe, expect, it } from 'vitest'
import {
  byHealth, CHARTS, chartOption, drillTo, fileNameOf, filtersFrom, healthOption, isEmpty, listQuery, num, reportQuery,
  short, statusOption, summary, toPoints, type AnalyticsTable,
} from '@/pages/dashboard/charts'

const conversion: AnalyticsTable = {
  report: 'conversion',
  title: '报备转化与撞单',
  columns: [
    { key: 'region', label: '区域', kind: 'text' },
    { key: 'registered', label: '报备数', kind: 'number' },
    { key: 'submitted', label: '已提交', kind: 'number' },
    { key: 'approved', label: '已通过', kind: 'number' },
    { key: 'rejected', label: '已驳回', kind: 'number' },
    { key: 'approval_rate', label: '审批通过率', kind: 'percent' },
  ],
  rows: [
    { region: '华东', registered: '3', submitted: '2', approved: '1', rejected: '0', approval_rate: '100.0%' },
    { region: '（未填）', registered: '1', submitted: '0', approved: '0', rejected: '0', approval_rate: '' },
    { region: '华南', registered: '2', submitted: '2', approved: '0', rejected: '1', approval_rate: '0.0%' },
  ],
}

describe('num', () => {
  it('reads the API cells', () => {
    expect(num('3')).toBe(3)
    expect(num('1,234.50')).toBe(1234.5)
    expect(num('12.5%')).toBe(12.5)
    expect(num('')).toBeNull()
    expect(num(null)).toBeNull()
    expect(num('abc')).toBeNull()
    expect(num(7)).toBe(7)
  })
})

describe('toPoints and chartOption', () => {
  it('takes the label column and the value columns', () => {
    const p = toPoints(conversion, { values: [1, 3] }, (r) => (r === '华东' ? 'East' : r))
    expect(p.raw).toEqual(['华东', '（未填）', '华南'])
    expect(p.labels).toEqual(['East', '（未填）', '华南'])
    expect(p.series.map((s) => s.name)).toEqual(['报备数', '已通过'])
    expect(p.series[0].data).toEqual([3, 1, 2])
    expect(isEmpty(p)).toBe(false)
  })

  it('builds a bar option with one series per column', () => {
    const o = chartOption(toPoints(conversion, { values: [1, 3] }), 'bar', { unit: '个' }) as any
    expect(o.series).toHaveLength(2)
    expect(o.series[0].type).toBe('bar')
    expect(o.xAxis.type).toBe('category')
    expect(o.xAxis.data).toEqual(['华东', '（未填）', '华南'])
    expect(o.yAxis.name).toBe('个')
  })

  it('lays horizontal bars with the categories on y', () => {
    const o = chartOption(toPoints(conversion, { values: [1] }), 'hbar') as any
    expect(o.yAxis.type).toBe('category')
    expect(o.xAxis.type).toBe('value')
  })

  it('builds a line option, a bar for a single point', () => {
    const o = chartOption(toPoints(conversion, { values: [1] }), 'line') as any
    expect(o.series[0].type).toBe('line')
    const one = chartOption(toPoints({ ...conversion, rows: conversion.rows.slice(0, 1) }, { values: [1] }), 'line') as any
    expect(one.series[0].type).toBe('bar')
  })

  it('builds a pie of the first series without empty slices', () => {
    const o = chartOption(toPoints(conversion, { values: [3] }), 'pie', { compact: true }) as any
    expect(o.series[0].type).toBe('pie')
    expect(o.series[0].data).toEqual([{ name: '华东', value: 1 }])
    expect(o.series[0].label.show).toBe(false)
  })

  it('knows an all-empty table', () => {
    expect(isEmpty(toPoints({ ...conversion, rows: [] }, { values: [1] }))).toBe(true)
    const zeros = { ...conversion, rows: [{ region: '华东', registered: '0' }] }
    expect(isEmpty(toPoints(zeros, { values: [1] }), 'bar')).toBe(false)
    expect(isEmpty(toPoints(zeros, { values: [1] }), 'pie')).toBe(true)
    expect(isEmpty(toPoints({ ...conversion, rows: [{ region: '华东', registered: '' }] }, { values: [1] }))).toBe(true)
    expect(isEmpty(toPoints({ ...conversion, columns: [], rows: [] }, { values: [1] }))).toBe(true)
  })

  it('covers every analytics report of the API', () => {
    const reports = new Set(CHARTS.map((c) => c.report))
    for (const r of ['cycle_times', 'approval_steps', 'approvers', 'cost_distribution', 'productivity', 'delay_reasons', 'conversion']) {
      expect(reports.has(r as never)).toBe(true)
    }
  })
})

describe('summary', () => {
  it('names the biggest value per series', () => {
    const p = toPoints(conversion, { values: [1] })
    expect(summary('转化', p)).toBe('转化：共 3 组；报备数最高为华东（3）')
    expect(summary('Conversion', p, true)).toContain('3 groups')
    expect(summary('转化', toPoints({ ...conversion, rows: [] }, { values: [1] }))).toBe('转化：暂无数据')
  })
  it('shortens long labels', () => {
    expect(short('一二三四五六七八九十', 6)).toBe('一二三四五…')
    expect(short('短', 6)).toBe('短')
  })
})

describe('drill-down', () => {
  it('leads to the project list with the filter', () => {
    expect(drillTo('region', '华东', { status: 'active' })).toEqual({ path: '/projects', query: { status: 'active', region: '华东' } })
    expect(drillTo('owner_id', 'zhangsan')).toEqual({ path: '/projects', query: { owner_id: 'zhangsan' } })
  })
  it('does not drill where the list has no such filter or the value is unset', () => {
    expect(drillTo('period', '2026-01')).toBeNull()
    expect(drillTo('approver', 'lisi')).toBeNull()
    expect(drillTo('region', '（未填）')).toBeNull()
    expect(drillTo('region', '')).toBeNull()
  })
})

describe('filters', () => {
  it('sends only what is set, dates as from/to to reports and created_* to the list', () => {
    const f = filtersFrom({ region: '华东', department_id: 'd-sales', from: '2026-01-01', to: 'bad', junk: 'x' })
    expect(reportQuery(f)).toEqual({ region: '华东', department_id: 'd-sales', from: '2026-01-01' })
    expect(listQuery(f)).toEqual({ region: '华东', department_id: 'd-sales', created_from: '2026-01-01' })
    expect(reportQuery(filtersFrom({}))).toEqual({})
  })
})

describe('health', () => {
  it('orders red, amber, green, then by amount', () => {
    const out = byHealth([
      { id: 'a', health: 'green', amount: '10' },
      { id: 'b', health: 'red', amount: '1' },
      { id: 'c', health: 'amber', amount: '5' },
      { id: 'd', health: 'red', amount: '100' },
      { id: 'e', health: 'red', amount: null },
    ])
    expect(out.map((x) => x.id)).toEqual(['d', 'b', 'e', 'c', 'a'])
  })
  it('colours the health bars and keeps the key for clicks', () => {
    const o = healthOption({ green: 2, red: 1 }, (h) => h.toUpperCase()) as any
    expect(o.xAxis.data).toEqual(['GREEN', 'AMBER', 'RED'])
    expect(o.series[0].data.map((d: any) => [d.health, d.value])).toEqual([['green', 2], ['amber', 0], ['red', 1]])
  })
  it('orders statuses along the lifecycle and drops zeros', () => {
    const o = statusOption({ active: 2, draft: 1, cancelled: 0, pending_approval: 3 }, (s) => s) as any
    expect(o.series[0].data.map((d: any) => d.status)).toEqual(['draft', 'pending_approval', 'active'])
  })
})

describe('fileNameOf', () => {
  it('reads Content-Disposition', () => {
    expect(fileNameOf('attachment; filename="projects.xlsx"', 'x')).toBe('projects.xlsx')
    expect(fileNameOf("attachment; filename*=UTF-8''%E9%A1%B9%E7%9B%AE.csv", 'x')).toBe('项目.csv')
    expect(fileNameOf(null, 'fallback.csv')).toBe('fallback.csv')
  })
})
