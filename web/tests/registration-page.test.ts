// 发起报备 page with the API mocked: a draft is created once (Idempotency-Key; a double click is one
// request) then PATCHed with its version; a 422's details land at their fields (core and form);
// collisions and the approval chain (with names) show as the form is filled.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import { defineComponent, h } from 'vue'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import FormRenderer from '@/components/form/FormRenderer.vue'

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
  return { ...real, api: { GET: respond('GET'), POST: respond('POST'), PATCH: respond('PATCH') } }
})
vi.mock('@/lib/people', () => ({
  userName: async (id: string) => ({ lisi: '李四', wangwu: '王五' })[id] ?? id,
  rememberUsers: () => undefined,
  orgTree: async () => [],
}))

const FORM = {
  key: 'standard', title: '标准项目报备', version: 1, settings: { conflict_policy: 'warn' },
  fields: [
    { key: 'industry', label: '行业', type: 'select', required: true, options: ['政府', '金融'] },
    { key: 'bid_type', label: '采购方式', type: 'select', options: ['公开招标', '邀请招标'] },
    { key: 'tender_no', label: '招标编号', type: 'text', visible_when: 'fields.bid_type == "公开招标"', required_when: 'fields.bid_type == "公开招标"' },
  ],
}
const PROJECT = {
  id: 'p1', code: 'BB-2026-000001', status: 'draft', version: 1, form_key: 'standard', name: '智慧园区', amount: '150000.00',
  customer: { name: '某某科技', uscc: null, contact: null }, region: '', business_line: '', fields: { industry: '政府' },
  owner_id: 'zhangsan', form_version: 1, conflicts: [], approval: { steps: [] }, history: [],
}

async function settle(ms = 30): Promise<void> {
  await flushPromises()
  await new Promise((r) => setTimeout(r, ms))
  await flushPromises()
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return
    await settle(25)
  }
  throw new Error('not reached: ' + what)
}

async function open(path: string): Promise<{ w: VueWrapper; router: Router }> {
  const Page = (await import('@/pages/registration/RegistrationPage.vue')).default
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/projects/new', name: 'registration-new', component: Page },
      { path: '/projects/:id/edit', name: 'registration-edit', component: Page },
      { path: '/projects/:id', name: 'project', component: defineComponent({ render: () => h('p', 'project') }) },
    ],
  })
  await router.push(path)
  await router.isReady()
  const App = defineComponent({ render: () => h(RouterView) })
  const w = mount(App, { global: { plugins: [ElementPlus, i18n, router] }, attachTo: document.body })
  await until(() => w.find('#reg-name').exists(), 'page loaded')
  return { w, router }
}

async function fillCore(w: VueWrapper): Promise<void> {
  await w.find('#reg-name').setValue('智慧园区')
  await w.find('#reg-amount').setValue('150000')
  await w.find('#reg-cname').setValue('某某科技')
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  calls.length = 0
  for (const k of Object.keys(handlers)) delete handlers[k]
  handlers['GET /api/v1/forms/{form_key}'] = () => ({ status: 200, body: FORM })
  handlers['POST /api/v1/approval-policies/{policy_key}/simulate'] = (o) => ({
    status: 200,
    body: { steps: [{ name: '部门经理审批', mode: 'any', approvers: ['lisi'] }, ...(Number(o.body.amount) >= 100000 ? [{ name: '财务审批', mode: 'any', approvers: ['wangwu'] }] : [])] },
  })
  handlers['POST /api/v1/projects/conflict-check'] = () => ({ status: 200, body: { conflicts: [], conflict_policy: 'warn' } })
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('发起报备', { timeout: 90_000 }, () => {
  it('creates the draft once, then PATCHes it with its version', async () => {
    handlers['POST /api/v1/projects'] = () => ({ status: 201, body: { id: 'p1', code: PROJECT.code, status: 'draft' } })
    handlers['GET /api/v1/projects/{project_id}'] = () => ({ status: 200, body: PROJECT })
    handlers['PATCH /api/v1/projects/{project_id}'] = (o) => ({ status: 200, body: { ...PROJECT, version: o.body.version + 1 } })
    const { w, router } = await open('/projects/new')
    await fillCore(w)
    w.findComponent(FormRenderer).vm.$emit('update:modelValue', { industry: '政府', bid_type: '邀请招标' })
    await settle()
    const save = w.find('[data-testid="save-draft"]')
    await save.trigger('click')
    await save.trigger('click')
    await until(() => router.currentRoute.value.name === 'registration-edit', 'edit route')
    const posts = calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/projects')
    expect(posts).toHaveLength(1)
    expect(posts[0].opts.params.header['Idempotency-Key']).toMatch(/.{8,}/)
    expect(posts[0].opts.body).toMatchObject({ form_key: 'standard', name: '智慧园区', amount: '150000', submit: false, fields: { industry: '政府', bid_type: '邀请招标' } })
    expect(router.currentRoute.value.params.id).toBe('p1')
    await settle(100)
    await w.find('[data-testid="save-draft"]').trigger('click')
    await until(() => calls.some((c) => c.method === 'PATCH'), 'patch')
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.opts.params.path.project_id).toBe('p1')
    expect(patch.opts.body.version).toBe(1)
    w.unmount()
  })

  it('shows a 422 at its fields: customer.uscc, amount and fields.<key>', async () => {
    handlers['POST /api/v1/projects'] = () => ({
      status: 422,
      body: { error: { code: 'validation_failed', message: '输入校验失败', details: [
        { field: 'amount', message: '金额过大' },
        { field: 'fields.industry', message: '行业：不在可选项中' },
        { field: 'customer.uscc', message: '统一社会信用代码无效（18 位且校验位正确）' },
      ] } },
    })
    const { w } = await open('/projects/new')
    await fillCore(w)
    await w.find('#reg-uscc').setValue('91350100M000100Y43')
    w.findComponent(FormRenderer).vm.$emit('update:modelValue', { industry: '政府' })
    await settle()
    await w.find('[data-testid="save-draft"]').trigger('click')
    const err = (k: string) => w.find(`[data-field="${k}"] .el-form-item__error`)
    await until(() => err('amount').exists() && err('industry').exists() && err('customer.uscc').exists(), 'errors shown')
    expect(err('amount').text()).toBe('金额过大')
    expect(err('industry').text()).toBe('行业：不在可选项中')
    expect(err('customer.uscc').text()).toContain('统一社会信用代码无效')
    // Editing the amount clears its server error; the others stay.
    await w.find('#reg-amount').setValue('150001')
    await until(() => !err('amount').exists(), 'amount error cleared')
    expect(err('customer.uscc').exists()).toBe(true)
    w.unmount()
  })

  it('warns of collisions as the customer is typed and previews the chain with names', async () => {
    handlers['POST /api/v1/projects/conflict-check'] = (o) => ({
      status: 200,
      body: {
        conflicts: o.body.customer.name.includes('重复') ? [{ project_id: 'x1', code: 'BB-2026-000009', reason: '客户名称相同' }] : [],
        conflict_policy: 'warn',
      },
    })
    const { w } = await open('/projects/new')
    await fillCore(w)
    await until(() => w.find('[data-testid="chain"]').text().includes('王五'), 'chain')
    const chain = w.find('[data-testid="chain"]').text()
    expect(chain).toContain('部门经理审批')
    expect(chain).toContain('李四')
    expect(chain).toContain('财务审批')
    expect(w.find('[data-testid="conflicts"]').exists()).toBe(false)
    await w.find('#reg-cname').setValue('重复客户')
    await until(() => w.find('[data-testid="conflicts"]').exists(), 'conflict warning')
    expect(w.find('[data-testid="conflicts"]').text()).toContain('BB-2026-000009')
    expect(w.find('[data-testid="conflicts"]').text()).toContain('客户名称相同')
    const sent = calls.filter((c) => c.path === '/api/v1/projects/conflict-check').at(-1)!.opts.body
    expect(sent).toMatchObject({ form_key: 'standard', name: '智慧园区', customer: { name: '重复客户' } })
    // Below 100000 the finance step goes.
    await w.find('#reg-amount').setValue('5000')
    await until(() => !w.find('[data-testid="chain"]').text().includes('财务审批'), 'chain without finance')
    w.unmount()
  })

  it('edits a draft with its values, and /projects/new afterwards starts empty', async () => {
    handlers['GET /api/v1/projects/{project_id}'] = () => ({ status: 200, body: PROJECT })
    const { w, router } = await open('/projects/p1/edit')
    await until(() => (w.find('#reg-name').element as HTMLInputElement).value === '智慧园区', 'values loaded')
    expect((w.find('#reg-amount').element as HTMLInputElement).value).toBe('150000.00')
    expect(w.text()).toContain('编辑报备')
    expect(w.text()).toContain('BB-2026-000001')
    await router.push('/projects/new')
    await until(() => w.text().includes('发起报备') && w.find('#reg-name').exists() && (w.find('#reg-name').element as HTMLInputElement).value === '', 'fresh form')
    expect(w.text()).not.toContain('BB-2026-000001')
    w.unmount()
  })

  it('PATCH clears saved fields now hidden, never one the user may not write', async () => {
    const form = { ...FORM, fields: [...FORM.fields, { key: 'margin', label: '毛利率', type: 'number', write_roles: ['finance'] }] }
    handlers['GET /api/v1/forms/{form_key}'] = () => ({ status: 200, body: form })
    const saved = { ...PROJECT, fields: { industry: '政府', bid_type: '公开招标', tender_no: 'ZB-1', margin: 30 } }
    handlers['GET /api/v1/projects/{project_id}'] = () => ({ status: 200, body: saved })
    handlers['PATCH /api/v1/projects/{project_id}'] = (o) => ({ status: 200, body: { ...saved, version: 2, fields: o.body.fields } })
    const { w } = await open('/projects/p1/edit')
    await until(() => w.find('#reg-f-tender_no').exists(), 'tender_no shown')
    expect(w.find('#reg-f-margin').attributes('disabled')).toBeDefined()
    w.findComponent(FormRenderer).vm.$emit('update:modelValue', { industry: '政府', bid_type: '邀请招标', margin: 30 })
    await settle()
    await w.find('[data-testid="save-draft"]').trigger('click')
    await until(() => calls.some((c) => c.method === 'PATCH'), 'patch')
    const body = calls.find((c) => c.method === 'PATCH')!.opts.body
    expect(body.fields).toEqual({ industry: '政府', bid_type: '邀请招标', tender_no: null })
    w.unmount()
  })

  it('says so when the project is no longer editable', async () => {
    handlers['GET /api/v1/projects/{project_id}'] = () => ({ status: 200, body: { ...PROJECT, status: 'pending_approval' } })
    const Page = (await import('@/pages/registration/RegistrationPage.vue')).default
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/projects/:id/edit', name: 'registration-edit', component: Page }, { path: '/projects/:id', component: { render: () => h('p') } }] })
    await router.push('/projects/p1/edit')
    const w = mount(defineComponent({ render: () => h(RouterView) }), { global: { plugins: [ElementPlus, i18n, router] }, attachTo: document.body })
    await until(() => w.text().includes('只有草稿或已退回的报备可以编辑'), 'not editable')
    expect(w.find('[data-testid="submit"]').exists()).toBe(false)
    w.unmount()
  })
})
