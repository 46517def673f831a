// The 验收 tab with the API mocked: the checklist renders with required marks; a submit refused
// with 422 shows each missing deliverable at its row in words; a rejected request shows its reason
// and the form to request again; an accepted one offers no new request.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import AcceptanceTab from '@/pages/projects/AcceptanceTab.vue'

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

const VIEW = '/api/v1/projects/{project_id}/acceptance'
const checklist = {
  business_line: '系统集成', configured: true, version: 1,
  items: [
    { key: 'report', name: '实施报告', required: true, needs_document: false },
    { key: 'signoff', name: '客户签字验收单', required: true, needs_document: true },
  ],
}
const rejected = {
  id: 'r1', seq: 1, status: 'rejected', business_line: '系统集成', requested_by: 'zhangsan', policy_key: 'acceptance',
  created_at: '2026-03-01T02:00:00Z', decided_at: '2026-03-02T02:00:00Z', decided_by: 'lisi', reason: '签字页缺少公章',
  deliverables: [{ key: 'report', name: '实施报告', required: true, needs_document: false, done: true }],
  documents: [], approval: { status: 'rejected', steps: [{ name: '验收审批', status: 'rejected', approvers: ['lisi'], decisions: [] }] },
}
const view = (over: Record<string, unknown> = {}) => ({
  project_id: 'p1', project_status: 'active', required: true, checklist, current: null, history: [], documents: [], ...over,
})
const names = { want: () => undefined, user: (id: string) => ({ zhangsan: '张三', lisi: '李四' } as Record<string, string>)[id] ?? id }

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 10))
  }
}

function mountTab(canManage = true) {
  return mount(AcceptanceTab, {
    props: { projectId: 'p1', canManage, phone: false },
    global: { plugins: [ElementPlus, i18n], provide: { names } },
    attachTo: document.body,
  })
}

beforeEach(() => {
  calls.length = 0
  for (const k of Object.keys(handlers)) delete handlers[k]
})

describe('AcceptanceTab', () => {
  it('lists the checklist and shows a refused request at the missing deliverable', async () => {
    handlers[`GET ${VIEW}`] = () => ({ status: 200, body: view() })
    handlers[`POST ${VIEW}`] = () => ({
      status: 422,
      body: { error: { code: 'validation_failed', message: '验收申请不完整', details: [{ field: 'deliverables.signoff', message: '必需的交付物未完成：客户签字验收单' }] } },
    })
    const w = mountTab()
    await settle()
    expect(w.text()).toContain('实施报告')
    expect(w.text()).toContain('客户签字验收单')
    expect(w.findAll('.acc-req')).toHaveLength(2)
    await w.find('.acc-submit').trigger('click')
    await settle()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.opts.body.deliverables.map((d: { key: string }) => d.key)).toEqual(['report', 'signoff'])
    const err = w.find('[role="alert"]')
    expect(err.text()).toBe('必需的交付物未完成：客户签字验收单')
    expect(err.attributes('id')).toBe('acc-err-signoff')
    w.unmount()
  })

  it('shows a rejected request with its reason and offers a new one; none after acceptance', async () => {
    handlers[`GET ${VIEW}`] = () => ({ status: 200, body: view({ current: rejected, history: [rejected] }) })
    const w = mountTab()
    await settle()
    expect(w.text()).toContain('签字页缺少公章')
    expect(w.text()).toContain('重新申请验收')
    w.unmount()
    const accepted = { ...rejected, id: 'r2', seq: 2, status: 'accepted', reason: null }
    handlers[`GET ${VIEW}`] = () => ({ status: 200, body: view({ project_status: 'closed', current: accepted, history: [accepted, rejected] }) })
    const v = mountTab()
    await settle()
    expect(v.text()).toContain('验收通过，项目已关闭')
    expect(v.find('.acc-submit').exists()).toBe(false)
    expect(v.text()).toContain('历史验收申请')
    v.unmount()
  })
})
