// FormRenderer mounted with Element Plus: every field type renders with a label bound to its
// control, validates, follows its conditions live (a hidden field drops its value and is not
// submitted), shows the server's 422 field errors, and disables fields the user may not write.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { defineComponent, h, ref } from 'vue'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import FormRenderer from '@/components/form/FormRenderer.vue'
import { projectFacts } from '@/components/form/rules'
import type { FormFieldDef, Values } from '@/components/form/types'

// The pickers' directory look-ups: nobody there in these tests.
vi.mock('@/lib/people', () => ({
  userName: async (id: string) => id,
  rememberUsers: () => undefined,
  orgTree: async () => [],
}))

const FIELDS: FormFieldDef[] = [
  { key: 'industry', label: '行业', type: 'select', required: true, options: ['政府', '金融'] },
  { key: 'bid_type', label: '采购方式', type: 'select', options: ['公开招标', '邀请招标'] },
  { key: 'tender_no', label: '招标编号', type: 'text', max_length: 5, visible_when: 'fields.bid_type == "公开招标"', required_when: 'fields.bid_type == "公开招标"' },
  { key: 'big_note', label: '大额说明', type: 'text', required_when: 'project.amount >= 100000' },
  { key: 'contact_phone', label: '客户联系电话', type: 'phone' },
  { key: 'contact_email', label: '客户邮箱', type: 'email' },
  { key: 'expected_sign', label: '预计签约日期', type: 'date', min: '2026-01-01' },
  { key: 'headcount', label: '投入人数', type: 'number', min: 1, max: 500 },
  { key: 'collect', label: '预计回款', type: 'money' },
  { key: 'products', label: '产品线', type: 'multiselect', options: ['云平台', '安全'], max_length: 1 },
  { key: 'presales', label: '售前支持', type: 'user' },
  { key: 'delivery_dept', label: '交付部门', type: 'department' },
  { key: 'partner_uscc', label: '合作伙伴信用代码', type: 'uscc' },
  { key: 'summary', label: '项目概述', type: 'textarea', max_length: 10 },
  { key: 'proposal', label: '方案附件', type: 'attachment', accept: ['.pdf'] },
  { key: 'margin', label: '毛利率', type: 'number', write_roles: ['finance'] },
  { key: 'level', label: '级别', type: 'text', default: 'A' },
]

type Exposed = {
  validate: () => boolean
  valid: () => boolean
  submittable: () => Values
}

function setup(initial: Values = {}, opts: { amount?: string; roles?: string[]; serverErrors?: Record<string, string> } = {}) {
  const values = ref<Values>({ ...initial })
  const serverErrors = ref<Record<string, string>>(opts.serverErrors ?? {})
  const amount = ref(opts.amount ?? '1000')
  const Host = defineComponent({
    setup() {
      return () =>
        h(FormRenderer, {
          ref: 'r',
          fields: FIELDS,
          modelValue: values.value,
          'onUpdate:modelValue': (v: Values) => (values.value = v),
          project: projectFacts({ name: 'P', amount: amount.value, customer: { name: 'C' } }),
          serverErrors: serverErrors.value,
          roles: opts.roles ?? ['sales'],
        })
    },
  })
  const w = mount(Host, { global: { plugins: [ElementPlus, i18n] }, attachTo: document.body })
  const r = () => (w.vm.$refs.r as unknown as Exposed)
  return { w, values, serverErrors, amount, r }
}

/** Let Vue render and Element Plus's form items take their error props. */
async function settle(): Promise<void> {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 30))
  await flushPromises()
}

const item = (w: VueWrapper, key: string) => w.find(`[data-field="${key}"]`)
/** The error shown at a field ('' when none shows up within a second). */
async function errorText(w: VueWrapper, key: string): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const e = item(w, key).find('.el-form-item__error')
    if (e.exists()) return e.text()
    await new Promise((r) => setTimeout(r, 25))
  }
  return ''
}

/** True once no error shows at the field (within a second). */
async function noError(w: VueWrapper, key: string): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (!item(w, key).find('.el-form-item__error').exists()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return false
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('FormRenderer', { timeout: 60_000 }, () => {
  it('renders every field type with a label bound to its control', async () => {
    const { w } = setup({ bid_type: '公开招标' })
    await settle()
    for (const f of FIELDS) {
      const el = item(w, f.key)
      expect(el.exists(), f.key).toBe(true)
      expect(el.find('label').text()).toContain(f.label)
      const forId = el.find('label').attributes('for')
      expect(forId, f.key).toBe(`ff-${f.key}`)
      expect(document.getElementById(forId!), f.key).not.toBeNull()
    }
    expect(item(w, 'summary').classes()).toContain('bb-field--wide')
    expect(item(w, 'proposal').find('input[type="file"]').attributes('accept')).toBe('.pdf')
    expect(item(w, 'collect').text()).toContain('¥')
    w.unmount()
  })

  it('validates: required, bounds, formats, and prefilled defaults satisfy requiredness', async () => {
    const { w, r } = setup({
      contact_phone: '123', contact_email: 'x', expected_sign: '2025-12-31', headcount: 501, collect: '1.234',
      products: ['云平台', '安全'], partner_uscc: '91350100M000100Y44', summary: '12345678901',
    })
    await settle()
    expect(r().validate()).toBe(false)
    await settle()
    expect(await errorText(w, 'industry')).toBe('行业 为必填项')
    expect(await errorText(w, 'contact_phone')).toBe('客户联系电话：必须是有效的中国大陆手机号')
    expect(await errorText(w, 'contact_email')).toBe('客户邮箱：必须是有效的电子邮箱')
    expect(await errorText(w, 'expected_sign')).toBe('预计签约日期：不能小于 2026-01-01')
    expect(await errorText(w, 'headcount')).toBe('投入人数：不能大于 500')
    expect(await errorText(w, 'collect')).toBe('预计回款：金额最多两位小数')
    expect(await errorText(w, 'products')).toBe('产品线：长度不能超过 1')
    expect(await errorText(w, 'partner_uscc')).toBe('合作伙伴信用代码：统一社会信用代码无效')
    expect(await errorText(w, 'summary')).toBe('项目概述：长度不能超过 10')
    expect(await noError(w, 'level')).toBe(true)
    w.unmount()
  })

  it('passes valid values and submits them trimmed', async () => {
    const { w, r } = setup({
      industry: '政府', contact_phone: ' 13812345678 ', contact_email: 'a@b.cn', expected_sign: '2026-03-01', headcount: 3,
      collect: '1.50', products: ['安全'], presales: 'lisi', delivery_dept: 'd-sales', partner_uscc: '91350100M000100Y43',
      summary: '概述', proposal: ['sha256:aa'], level: 'B',
    })
    await settle()
    expect(r().validate()).toBe(true)
    expect(r().submittable()).toEqual({
      industry: '政府', contact_phone: '13812345678', contact_email: 'a@b.cn', expected_sign: '2026-03-01', headcount: 3,
      collect: '1.50', products: ['安全'], presales: 'lisi', delivery_dept: 'd-sales', partner_uscc: '91350100M000100Y43',
      summary: '概述', proposal: ['sha256:aa'], level: 'B',
    })
    w.unmount()
  })

  it('visible_when shows the field live, hides it again and drops its value', async () => {
    const { w, values, r } = setup({ industry: '政府' })
    await settle()
    expect(item(w, 'tender_no').exists()).toBe(false)
    values.value = { ...values.value, bid_type: '公开招标' }
    await settle()
    expect(item(w, 'tender_no').exists()).toBe(true)
    expect(item(w, 'tender_no').classes()).toContain('is-required')
    await item(w, 'tender_no').find('input').setValue('ZB-1')
    expect(values.value.tender_no).toBe('ZB-1')
    values.value = { ...values.value, bid_type: '邀请招标' }
    await settle()
    expect(item(w, 'tender_no').exists()).toBe(false)
    expect('tender_no' in values.value).toBe(false)
    expect(r().submittable().tender_no).toBeUndefined()
    w.unmount()
  })

  it('required_when makes a field required (here over project.amount)', async () => {
    const { w, r, amount } = setup({ industry: '政府' })
    await settle()
    expect(item(w, 'big_note').classes()).not.toContain('is-required')
    expect(r().validate()).toBe(true)
    amount.value = '150000'
    await settle()
    expect(item(w, 'big_note').classes()).toContain('is-required')
    expect(r().validate()).toBe(false)
    await settle()
    expect(await errorText(w, 'big_note')).toBe('大额说明 为必填项')
    w.unmount()
  })

  it('required_when via visible field: 公开招标 without 招标编号 fails', async () => {
    const { w, r } = setup({ industry: '政府', bid_type: '公开招标' })
    await settle()
    expect(r().validate()).toBe(false)
    await settle()
    expect(await errorText(w, 'tender_no')).toBe('招标编号 为必填项')
    w.unmount()
  })

  it('shows the server errors at their fields until the value changes', async () => {
    const { w, serverErrors } = setup({ industry: '政府' })
    serverErrors.value = { 'fields.presales': '售前支持：用户不存在', 'fields.contact_phone': '客户联系电话：必须是有效的中国大陆手机号', amount: '金额过大' }
    await settle()
    expect(await errorText(w, 'presales')).toBe('售前支持：用户不存在')
    expect(await errorText(w, 'contact_phone')).toBe('客户联系电话：必须是有效的中国大陆手机号')
    await item(w, 'contact_phone').find('input').setValue('13812345678')
    await settle()
    expect(await noError(w, 'contact_phone')).toBe(true)
    expect(await errorText(w, 'presales')).toBe('售前支持：用户不存在')
    w.unmount()
  })

  it('disables a field the user may not write; admin and holders may', async () => {
    const rep = setup({}, { roles: ['sales'] })
    await settle()
    expect(rep.w.find('#ff-margin').attributes('disabled')).toBeDefined()
    expect(rep.w.find('#ff-headcount').attributes('disabled')).toBeUndefined()
    expect(item(rep.w, 'margin').text()).toContain('你没有填写该字段的权限')
    rep.values.value = { ...rep.values.value, industry: '政府', margin: 30 }
    expect(rep.r().submittable().margin).toBeUndefined()
    rep.w.unmount()
    for (const roles of [['finance'], ['admin']]) {
      const other = setup({}, { roles })
      await settle()
      expect(other.w.find('#ff-margin').attributes('disabled')).toBeUndefined()
      other.w.unmount()
    }
  })

  it('uploads an attachment with progress; its value is the attachment id list', async () => {
    const sent: XMLHttpRequest[] = []
    class FakeXhr {
      upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null }
      onload: (() => void) | null = null
      onerror: (() => void) | null = null
      status = 0
      responseText = ''
      open() {}
      setRequestHeader() {}
      send() {
        sent.push(this as unknown as XMLHttpRequest)
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const { w, values } = setup({ industry: '政府' })
    await settle()
    const input = w.find('#ff-proposal').element as HTMLInputElement
    const file = new File(['%PDF-1.4'], '方案.pdf', { type: 'application/pdf' })
    Object.defineProperty(input, 'files', { value: [file], configurable: true })
    await w.find('#ff-proposal').trigger('change')
    await settle()
    expect(sent).toHaveLength(1)
    const xhr = sent[0] as unknown as FakeXhr
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 })
    await settle()
    expect(item(w, 'proposal').find('.el-progress').exists()).toBe(true)
    expect(item(w, 'proposal').text()).toContain('50%')
    xhr.status = 201
    xhr.responseText = JSON.stringify({ id: 'sha256:abc', filename: '方案.pdf', content_type: 'application/pdf', size: 8 })
    xhr.onload?.()
    await settle()
    expect(values.value.proposal).toEqual(['sha256:abc'])
    expect(item(w, 'proposal').text()).toContain('方案.pdf')
    // A file the field does not accept never leaves the browser.
    Object.defineProperty(input, 'files', { value: [new File(['x'], 'a.exe')], configurable: true })
    await w.find('#ff-proposal').trigger('change')
    await settle()
    expect(sent).toHaveLength(1)
    expect(await errorText(w, 'proposal')).toContain('a.exe 的类型不允许')
    // Removing it empties the value.
    await item(w, 'proposal').find('button.el-button--danger').trigger('click')
    expect(values.value.proposal).toBeUndefined()
    w.unmount()
  })

  it('speaks English when switched', async () => {
    i18n.global.locale.value = 'en'
    const { w, r } = setup({ contact_phone: '1' })
    await settle()
    r().validate()
    await settle()
    expect(await errorText(w, 'contact_phone')).toBe('客户联系电话: must be a valid mainland-China mobile number')
    expect(await errorText(w, 'industry')).toBe('行业 is required')
    w.unmount()
  })
})
