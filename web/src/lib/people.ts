// Names for ids: users (GET /api/v1/users/{id}) and departments (GET /api/v1/org), cached for
// the page's life so lists show 张三, not zhangsan.
import { api, call } from '@/api/client'

const names = new Map<string, string>()
const pending = new Map<string, Promise<string>>()

export function rememberUsers(users: { id: string; name: string }[]): void {
  for (const u of users) names.set(u.id, u.name)
}

export function knownName(id: string | null | undefined): string {
  return id ? (names.get(id) ?? id) : ''
}

export function userName(id: string): Promise<string> {
  if (names.has(id)) return Promise.resolve(names.get(id)!)
  if (!pending.has(id)) {
    pending.set(
      id,
      call(api.GET('/api/v1/users/{user_id}', { params: { path: { user_id: id } } }))
        .then((u) => {
          const name = (u as { name?: string }).name ?? id
          names.set(id, name)
          return name
        })
        .catch(() => id),
    )
  }
  return pending.get(id)!
}

export interface DeptNode {
  id: string
  name: string
  children: DeptNode[]
}

let tree: Promise<DeptNode[]> | null = null
export function orgTree(): Promise<DeptNode[]> {
  if (!tree) {
    tree = call(api.GET('/api/v1/org')).then((o) => o.departments as unknown as DeptNode[]).catch(() => {
      tree = null
      return []
    })
  }
  return tree
}

export async function departmentName(id: string): Promise<string> {
  const walk = (nodes: DeptNode[]): string | null => {
    for (const n of nodes) {
      if (n.id === id) return n.name
      const hit = walk(n.children ?? [])
      if (hit) return hit
    }
    return null
  }
  return walk(await orgTree()) ?? id
}
