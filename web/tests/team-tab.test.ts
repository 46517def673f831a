// 团队 tab with the API mocked: the team shows with role labels; the edit button only when the API
// says can_edit; editing removes a member and saves the whole list with PUT; a second PM blocks save.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '@/i18n'
import TeamTab from '@/pages/projects/TeamTab.vue'

type Call = { method: string; path: string; opts: Record<string, any> }
const calls: Call[] = []
let team: Record<string, any> = {}

vi.mock('@/api/client', async (orig) => {
  const real = (await orig()) as Record<string, unknown>
  const respond = (method: string) => async (path: string, opts: Record<string, any> = {}) => {
    calls.push({ method, path, opts })
    let body: unknown = team
    if (path === '/api/v1/users') body = { items: [], next_cursor: null }
    else if (path === '/api/v1/users/{user_id}') body = { id: opts.params?.path?.user_id, name: '某人' }
    else if (method === 'PUT') body = { ...team, members: opts.body.members.map((m: any) => ({ ...m, name: '', added_by: '', added_at: null })) }
    return { data: body, response: new Response(null, { status: 200 }) }
  }
  return { ...real, api: { GET: respond('GET'), PUT: respond('PUT') } }
})

async function settle(): Promise<void> {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

function mountIt() {
  return mount(TeamTab, { props: { projectId: 'p1' }, global: { plugins: [ElementPlus, i18n] } })
}

beforeEach(() => {
  calls.length = 0
  i18n.global.locale.value = 'zh-CN'
  team = {
    project_id: 'p1', owner_id: 'u1', can_edit: true,
    members: [
      { user_id: 'u1', name: '张三', role: 'pm', added_by: 'system', added_at: '2026-06-01T00:00:00Z' },
      { user_id: 'u2', name: '李四', role: 'observer', added_by: 'u1', added_at: '2026-06-02T00:00:00Z' },
    ],
  }
})

describe('TeamTab', () => {
  it('lists members with their roles', async () => {
    const w = mountIt()
    await settle()
    const text = w.text()
    expect(text).toContain('张三')
    expect(text).toContain('项目经理')
    expect(text).toContain('观察者')
    expect(w.findAll('button').some((b) => b.text() === '编辑团队')).toBe(true)
  })

  it('hides editing when the caller may not change the team', async () => {
    team.can_edit = false
    const w = mountIt()
    await settle()
    expect(w.findAll('button').some((b) => b.text() === '编辑团队')).toBe(false)
  })

  it('saves the whole team with PUT', async () => {
    const w = mountIt()
    await settle()
    await w.findAll('button').find((b) => b.text() === '编辑团队')!.trigger('click')
    await settle()
    const remove = w.findAll('button').filter((b) => (b.attributes('aria-label') ?? '').startsWith('移除'))
    expect(remove.length).toBe(2)
    // Named by the person, never by the raw user id.
    expect(remove.map((b) => b.attributes('aria-label'))).toEqual(['移除 张三', '移除 李四'])
    await remove[1].trigger('click')
    await settle()
    await w.find('form').trigger('submit')
    await settle()
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.path).toBe('/api/v1/projects/{project_id}/team')
    expect(put?.opts.body).toEqual({ members: [{ user_id: 'u1', role: 'pm' }] })
  })
})
