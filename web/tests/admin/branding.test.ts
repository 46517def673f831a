// 单据抬头 (branding) with the API mocked: the saved name and logo show; a chosen file is checked by
// its first bytes and size before it is sent; save PUTs the name with the logo as base64 (or
// remove_logo); a 422 lands at its field.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import BrandingSection from '@/pages/admin/BrandingSection.vue'
import { imageKind, readLogo, toBase64 } from '@/pages/admin/logo'

type Call = { method: string; path: string; opts: Record<string, any> }
const calls: Call[] = []
let branding: Record<string, unknown> = {}
let putAnswer: { status: number; body: unknown } | null = null

vi.mock('@/api/client', async (orig) => {
  const real = (await orig()) as Record<string, unknown>
  const respond = (method: string) => async (path: string, opts: Record<string, any> = {}) => {
    calls.push({ method, path, opts })
    const { status, body } = method === 'PUT' && putAnswer ? putAnswer : { status: 200, body: branding }
    const response = new Response(null, { status })
    return status < 400 ? { data: body, response } : { error: body, response }
  }
  return { ...real, api: { GET: respond('GET'), PUT: respond('PUT') } }
})
vi.mock('@/lib/download', () => ({
  fetchBlob: async () => ({ blob: new Blob([PNG], { type: 'image/png' }), filename: 'logo.png' }),
}))

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16])

function mountIt(editable = true) {
  return mount(BrandingSection, { props: { editable }, global: { plugins: [ElementPlus, i18n] } })
}

async function choose(wrapper: ReturnType<typeof mountIt>, bytes: Uint8Array, name = 'logo.png') {
  const input = wrapper.get('[data-testid="branding-file"]').element as HTMLInputElement
  const file = new File([bytes as unknown as BlobPart], name)
  Object.defineProperty(input, 'files', { value: [file], configurable: true })
  await wrapper.get('[data-testid="branding-file"]').trigger('change')
  await settle()
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return
    await settle()
  }
  throw new Error('not reached: ' + what)
}

const fieldError = (w: ReturnType<typeof mountIt>, k: string) => w.find(`[data-field="${k}"] .el-form-item__error`)

async function settle(): Promise<void> {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

beforeEach(() => {
  calls.length = 0
  putAnswer = null
  branding = { company_name: '华东某某集团', has_logo: true, logo_url: '/api/v1/branding/logo?v=abc', version: 2, updated_at: '2026-11-20T06:30:00Z', updated_by: 'wangwu' }
  globalThis.URL.createObjectURL = vi.fn(() => 'blob:logo')
  globalThis.URL.revokeObjectURL = vi.fn()
})
afterEach(() => vi.clearAllMocks())

describe('logo checks', () => {
  it('knows PNG and JPEG by their first bytes and refuses the rest', async () => {
    expect(imageKind(PNG)).toBe('png')
    expect(imageKind(JPEG)).toBe('jpeg')
    expect(imageKind(new TextEncoder().encode('GIF89a'))).toBeNull()
    expect(toBase64(new Uint8Array([104, 105]))).toBe('aGk=')
    expect(await readLogo(new Blob([new Uint8Array(256 * 1024 + 1)]))).toBe('tooBig')
    expect(await readLogo(new Blob([new TextEncoder().encode('<svg/>')]))).toBe('badType')
    expect(await readLogo(new Blob([PNG]))).toEqual({ kind: 'png', base64: toBase64(PNG) })
  })
})

describe('BrandingSection', () => {
  it('shows the saved branding and saves a new name with a new logo', async () => {
    const w = mountIt()
    await flushPromises()
    expect((w.get('input[data-testid="branding-name"]').element as HTMLInputElement).value).toBe('华东某某集团')
    expect(w.get('[data-testid="branding-preview"]').attributes('src')).toBe('blob:logo')
    await choose(w, JPEG, 'new.jpg')
    expect(w.get('[data-testid="branding-preview"]').attributes('src')).toBe(`data:image/jpeg;base64,${toBase64(JPEG)}`)
    await w.get('input[data-testid="branding-name"]').setValue('华东某某科技集团')
    await w.get('form').trigger('submit')
    await flushPromises()
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.path).toBe('/api/v1/branding')
    expect(put?.opts.body).toEqual({ company_name: '华东某某科技集团', remove_logo: false, logo_base64: toBase64(JPEG) })
  })

  it('refuses a file that is no PNG or JPEG without sending it, and removes the logo on request', async () => {
    const w = mountIt()
    await flushPromises()
    await choose(w, new TextEncoder().encode('GIF89a....'), 'x.gif')
    await until(() => fieldError(w, 'logo_base64').exists(), 'logo error shown')
    expect(fieldError(w, 'logo_base64').text()).toBe('Logo 须为 PNG 或 JPEG 图片')
    await w.findAll('button').find((b) => b.text() === '移除 Logo')!.trigger('click')
    expect(w.find('[data-testid="branding-preview"]').exists()).toBe(false)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.find((c) => c.method === 'PUT')?.opts.body).toEqual({ company_name: '华东某某集团', remove_logo: true })
  })

  it('puts a 422 at its field', async () => {
    putAnswer = { status: 422, body: { error: { code: 'validation_failed', message: '输入校验失败', details: [{ field: 'company_name', message: '公司名称不能超过 100 个字符' }] } } }
    const w = mountIt()
    await flushPromises()
    await w.get('form').trigger('submit')
    await until(() => fieldError(w, 'company_name').exists(), 'name error shown')
    expect(fieldError(w, 'company_name').text()).toBe('公司名称不能超过 100 个字符')
  })

  it('is read-only for others', async () => {
    const w = mountIt(false)
    await flushPromises()
    expect(w.find('[data-testid="branding-save"]').exists()).toBe(false)
    expect(w.find('[data-testid="branding-file"]').exists()).toBe(false)
  })
})
