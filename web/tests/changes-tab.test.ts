// The 变更 tab with the API mocked: the owner proposes a change (only what was filled in is sent);
// a 422 shows at the field it names; the history shows each change's before/after diff with the
// form's labels, its chain and outcome; a pending change hides the form and may be withdrawn.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import ChangesTab from '@/pages/projects/ChangesTab.vue'

type Call = { method: string; path: string; opts: Record<string, any> }
const calls: Call[] = []
const handlers: Record<string, (opts: Record<string, any>) => { status: number; body: unknown }> = {}

vi.mock('@/api/client', async (orig) => {
  const real = (await orig()) as Record<string, unknown>
  const respond = (method: string) => async (path: string, opts: Record<string, any> = {}) => {
    calls.push({ method, path, opts })
    const hnd = handlers[`${method} ${path}`]
    const { status, body } = hnd ? hnd(opts) : { status: 404, body: { error: { code: 'not_found', message: '不存在' } } }
    const response = new Response(null, { status })
    return status < 400 ? { data: body, response } : { error: body, response }
  }
  return { ...real, api: { GET: respond('GET'), POST: respond('POST') } }
})

const LIST = '/api/v1/projects/{project_id}/changes'
const names = { want: () => undefined, user: (id: string) => ({ zhangsan: '张三', lisi: '李四' } as Record<string, string>)[id] ?? id }
const form = { fields: [{ key: 'scope', label: '实施范围', type: 'text' }] }
const rejected = {
  id: 'c1', project_id: 'p1', seq: 1, status: 'rejected', reason: '客户追加二期', reset_baseline: false, requested_by: 'zhangsan',
  created_at: '2026-03-01T02:00:00Z', decided_at: '2026-03-02T02:00:00Z', decided_by: 'lisi', outcome_reason: '预算已锁定',
  diff: [{ field: 'amount', before: '100000.00', after: '300000.00' }, { field: 'fields.scope', before: null, after: '二期' }],
  approval: { status: 'rejected', steps: [{ name: '经理审批', status: 'rejected', approvers: ['lisi'], decisions: [] }] },
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 10))
  }
}

function mountTab(status = 'active') {
  return mount(ChangesTab, {
    props: { projectId: 'p1', status, canManage: true, form, phone: false },
    global: { plugins: [ElementPlus, i18n], provide: { names } },
    attachTo: document.body,
  })
}

beforeEach(() => {
  calls.length = 0
  for (const k of Object.keys(handlers)) delete handlers[k]
})

describe('ChangesTab', () => {
  it('shows the diff with the form labels and the outcome, and proposes only what was filled in', async () => {
    handlers[`GET ${LIST}`] = () => ({ status: 200, body: { items: [rejected] } })
    handlers[`POST ${LIST}`] = () => ({
      status: 422,
      body: { error: { code: 'validation_failed', message: '输入校验失败', details: [{ field: 'changes.amount', message: '金额不能为负数' }] } },
    })
    const w = mountTab()
    await settle()
    expect(w.text()).toContain('第 1 次变更')
    expect(w.text()).toContain('实施范围')
    expect(w.text()).toContain('¥300,000.00')
    expect(w.text()).toContain('预算已锁定')
    const inputs = w.findAll('.chg-form input')
    await inputs[0].setValue('-1')
    await w.find('.chg-form textarea').setValue('调整')
    await w.findAll('.chg-form button').filter((b) => b.text() === '提交变更申请')[0].trigger('click')
    await settle()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.opts.body).toEqual({ changes: { amount: '-1' }, reason: '调整', reset_baseline: false })
    expect(w.find('.chg-errs').text()).toBe('金额：金额不能为负数')
    w.unmount()
  })

  it('hides the form while a change is pending and withdraws it', async () => {
    const pending = { ...rejected, status: 'pending', decided_at: null, decided_by: null, outcome_reason: null }
    handlers[`GET ${LIST}`] = () => ({ status: 200, body: { items: [pending] } })
    handlers['POST /api/v1/changes/{change_id}/withdraw'] = () => ({ status: 200, body: { ...pending, status: 'withdrawn' } })
    const w = mountTab()
    await settle()
    expect(w.find('.chg-form').exists()).toBe(false)
    expect(w.text()).toContain('已有一项变更申请在审批中')
    await w.findAll('button').filter((b) => b.text() === '撤回变更')[0].trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/changes/{change_id}/withdraw')).toBe(true)
    w.unmount()
  })
})
