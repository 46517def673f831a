// The comment threads with the API mocked: threads and replies render with @mentions marked and
// whom a reply answers; a refused mention (422 on mentions[0]) is shown at the input in words; a
// post that failed with a server error is retried with the same Idempotency-Key (posted once),
// a refused one with a new key.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import { session } from '@/lib/session'
import CommentsPanel from '@/components/comments/CommentsPanel.vue'

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
  return { ...real, api: { GET: respond('GET'), POST: respond('POST'), DELETE: respond('DELETE') } }
})

const LIST = '/api/v1/projects/{project_id}/comments'
const first = {
  id: 'c1', project_id: 'p1', anchor: 'project', author_id: 'zhangsan', author_name: '张三', body: '@李四 请看报价',
  mentions: ['lisi'], mention_names: ['李四'], created_at: '2026-03-01T02:00:00Z', deleted: false,
}
const reply = { ...first, id: 'c2', author_id: 'lisi', author_name: '李四', body: '收到', mentions: [], mention_names: [], parent_id: 'c1', reply_to_id: 'c1' }
const reply2 = { ...reply, id: 'c3', author_id: 'zhangsan', author_name: '张三', body: '好的', reply_to_id: 'c2' }

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 10))
  }
}

function mountPanel() {
  return mount(CommentsPanel, { props: { projectId: 'p1' }, global: { plugins: [ElementPlus, i18n] }, attachTo: document.body })
}

beforeEach(() => {
  calls.length = 0
  for (const k of Object.keys(handlers)) delete handlers[k]
  session.me = { user: { id: 'zhangsan', roles: ['sales'] } } as never
  handlers[`GET ${LIST}`] = () => ({ status: 200, body: { items: [{ ...first, replies: [reply, reply2] }], total: 1, next_cursor: null } })
})

describe('CommentsPanel', () => {
  it('renders threads, marked mentions and whom a reply answers; delete only on own comments', async () => {
    const w = mountPanel()
    await settle()
    const articles = w.findAll('article.cm')
    expect(articles).toHaveLength(3)
    expect(articles[0].find('.cm-at').text()).toBe('@李四')
    expect(articles[0].text()).toContain('请看报价')
    expect(articles[1].text()).not.toContain('回复 ') // answers the thread's first comment
    expect(articles[2].text()).toContain('回复 李四')
    expect(articles.map((a) => a.findAll('button').some((b) => b.text() === '删除'))).toEqual([true, false, true])
    w.unmount()
  })

  it('shows a refused mention at the input and keeps the key only after a server error', async () => {
    const w = mountPanel()
    await settle()
    const answers = [
      { status: 503, body: { error: { code: 'unavailable', message: '服务暂时不可用' } } },
      { status: 422, body: { error: { code: 'validation_failed', message: '有被 @ 的人无法查看该项目', details: [{ field: 'mentions[0]', message: '王五 无权查看该项目，不能 @ 他/她' }] } } },
      { status: 201, body: { ...first, id: 'c9' } },
    ]
    handlers[`POST ${LIST}`] = () => answers.shift()!
    await w.find('textarea').setValue('看一下')
    const send = async () => {
      await w.find('form.cc').trigger('submit')
      await settle()
    }
    await send()
    expect(w.find('.cc-errors').text()).toContain('服务暂时不可用')
    await send()
    expect(w.find('.cc-errors').text()).toContain('王五 无权查看该项目')
    expect(w.find('.cc-errors').text()).not.toContain('{')
    await send()
    const keys = calls.filter((c) => c.method === 'POST').map((c) => c.opts.params.header['Idempotency-Key'])
    expect(keys).toHaveLength(3)
    expect(keys[1]).toBe(keys[0]) // retried after the 503: same request
    expect(keys[2]).not.toBe(keys[1]) // after the refusal: a new one
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.opts.body)).toEqual(
      Array(3).fill({ body: '看一下', mentions: [], parent_id: undefined, anchor: undefined }))
    w.unmount()
  })
})
