// The 复盘 tab and the 经验库 page with the API mocked: a recorded review shows outcome, cost vs
// budget and lessons with its PDF button; without one, the owner records it (PUT with the form's
// values); the lessons page lists what the search answered and filters by a tag.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import ReviewTab from '@/pages/projects/ReviewTab.vue'
import LessonsPage from '@/pages/projects/LessonsPage.vue'

type Call = { method: string; path: string; opts: Record<string, any> }
const calls: Call[] = []
const handlers: Record<string, (opts: Record<string, any>) => { status: number; body: unknown }> = {}

vi.mock('@/api/client', async (orig) => {
  const real = (await orig()) as Record<string, unknown>
  const respond = (method: string) => async (path: string, opts: Record<string, any> = {}) => {
    calls.push({ method, path, opts })
    const hnd = handlers[`${method} ${path}`]
    const { status, body } = hnd ? hnd(opts) : { status: 404, body: { error: { code: 'not_found', message: '该项目尚无复盘' } } }
    const response = new Response(null, { status })
    return status < 400 ? { data: body, response } : { error: body, response }
  }
  return { ...real, api: { GET: respond('GET'), PUT: respond('PUT'), POST: respond('POST') } }
})

const REVIEW = '/api/v1/projects/{project_id}/review'
const review = {
  project_id: 'p1', code: 'BB-1', name: '展陈项目', status: 'closed', outcome: 'delivered', outcome_label: '已交付', reason: '按期验收',
  lessons: '需求冻结要早', tags: ['需求'], delay_summary: '无延期任务', delay_summary_generated: true, budget: '100000.00', cost: '80000.00',
  cost_variance: '-20000.00', cost_ratio: 0.8, baseline_finish: '2026-09-10', actual_finish: '2026-09-12', slip_days: 2, delay_reasons: [],
  late_tasks: [], tasks: 3, tasks_done: 3, reviewed_at: '2026-09-20T02:00:00Z', reviewed_by: 'rep', closed_at: '2026-09-19T02:00:00Z',
}
const project = { id: 'p1', code: 'BB-1', name: '展陈项目', status: 'closed', owner_id: 'rep' }
const names = { want: () => undefined, user: (id: string) => id, dept: (id: string) => id }

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 10))
  }
}

function mountTab(canEdit = true, phone = false) {
  return mount(ReviewTab, {
    props: { project: project as never, canEdit, phone },
    global: { plugins: [ElementPlus, i18n], provide: { names } }, attachTo: document.body,
  })
}

beforeEach(() => {
  calls.length = 0
  for (const k of Object.keys(handlers)) delete handlers[k]
})

describe('ReviewTab', () => {
  it('shows a recorded review with cost vs budget and the PDF button', async () => {
    handlers[`GET ${REVIEW}`] = () => ({ status: 200, body: review })
    const w = mountTab()
    await settle()
    const text = w.text()
    for (const s of ['已交付', '按期验收', '80.0%', '需求冻结要早', '2026-09-10', '无延期任务', '下载复盘报告 PDF', '编辑复盘']) expect(text).toContain(s)
    w.unmount()
  })

  it('puts the sign before the currency and lists late tasks (no wide table) on a phone', async () => {
    const late = { task_id: 't1', name: '数据盘点', baseline_finish: '2026-09-10', finish: '2026-09-12', slip_days: 2, delay_reason: '客户原因' }
    handlers[`GET ${REVIEW}`] = () => ({ status: 200, body: { ...review, late_tasks: [late] } })
    const w = mountTab(true, true)
    await settle()
    expect(w.text()).toContain('-¥20,000.00')
    expect(w.find('.el-table').exists()).toBe(false)
    const item = w.find('ul.rv-late li')
    expect(item.text()).toContain('数据盘点')
    expect(item.text()).toContain('基线 2026-09-10 → 完成 2026-09-12（晚 2 天）')
    expect(item.text()).toContain('客户原因')
    w.unmount()
  })

  it('records a review when there is none', async () => {
    handlers[`PUT ${REVIEW}`] = (opts) => ({ status: 200, body: { ...review, ...opts.body } })
    const w = mountTab()
    await settle()
    expect(w.text()).toContain('该项目尚未复盘')
    await w.findAll('button').find((b) => b.text() === '填写复盘')!.trigger('click')
    await settle()
    await w.findAll('label.el-radio-button').find((l) => l.text() === '丢单')!.trigger('click')
    await w.find('textarea').setValue('价格')
    await w.find('form').trigger('submit')
    await settle()
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.opts.body).toMatchObject({ outcome: 'lost', reason: '价格' })
    expect(w.text()).toContain('丢单')
    w.unmount()
  })

  it('offers no recording to someone who may not edit', async () => {
    const w = mountTab(false)
    await settle()
    expect(w.text()).toContain('该项目尚未复盘')
    expect(w.findAll('button').some((b) => b.text() === '填写复盘')).toBe(false)
    w.unmount()
  })
})

describe('LessonsPage', () => {
  it('lists the lessons found and filters by a tag', async () => {
    handlers['GET /api/v1/reviews/lessons'] = () => ({ status: 200, body: {
      items: [{ project_id: 'p1', code: 'BB-1', name: '展陈项目', business_line: 'IoT', outcome: 'lost', outcome_label: '丢单', reason: '价格',
                lessons: '报价前确认预算', tags: ['报价'], reviewed_at: '2026-09-20T02:00:00Z', reviewed_by: 'rep' }],
      tags: { 报价: 1 },
    } })
    const w = mount(LessonsPage, { global: { plugins: [ElementPlus, i18n], stubs: { RouterLink: { template: '<a><slot /></a>' } } }, attachTo: document.body })
    await settle()
    expect(w.text()).toContain('报价前确认预算')
    expect(w.text()).toContain('BB-1 展陈项目')
    await w.find('.el-check-tag').trigger('click')
    await settle()
    const last = calls.filter((c) => c.path === '/api/v1/reviews/lessons').at(-1)!
    expect(last.opts.params.query.tag).toBe('报价')
    w.unmount()
  })

  it('keeps the chosen tag listed (to clear it) when nothing matches', async () => {
    handlers['GET /api/v1/reviews/lessons'] = (opts: any) => ({ status: 200, body: opts.params.query.tag
      ? { items: [], tags: {} }
      : { items: [{ project_id: 'p1', code: 'BB-1', name: '展陈项目', business_line: 'IoT', outcome: 'lost', outcome_label: '丢单', reason: '价格',
                    lessons: '报价前确认预算', tags: ['报价'], reviewed_at: '2026-09-20T02:00:00Z', reviewed_by: 'rep' }], tags: { 报价: 1 } } })
    const w = mount(LessonsPage, { global: { plugins: [ElementPlus, i18n], stubs: { RouterLink: { template: '<a><slot /></a>' } } }, attachTo: document.body })
    await settle()
    await w.find('.el-check-tag').trigger('click')
    await settle()
    expect(w.text()).toContain('没有找到经验教训')
    const chip = w.find('.el-check-tag')
    expect(chip.text()).toContain('报价（0）')
    await chip.trigger('click')
    await settle()
    const last = calls.filter((c) => c.path === '/api/v1/reviews/lessons').at(-1)!
    expect(last.opts.params.query.tag).toBeUndefined()
    expect(w.text()).toContain('报价前确认预算')
    w.unmount()
  })
})
