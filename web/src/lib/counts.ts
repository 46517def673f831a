// Badge counts of the shell (to-dos waiting, unread notifications), refreshed on navigation.
import { reactive } from 'vue'
import { api, call } from '@/api/client'

export const counts = reactive({ todos: 0, unread: 0 })

export async function refreshCounts(): Promise<void> {
  try {
    const todos = await call(api.GET('/api/v1/me/todos'))
    counts.todos = (todos as { items?: unknown[] }).items?.length ?? 0
  } catch {
    /* badges are a hint; a failure shows none */
  }
  try {
    const n = (await call(api.GET('/api/v1/me/notifications'))) as { items?: { read_at?: string | null }[]; unread?: number }
    counts.unread = typeof n.unread === 'number' ? n.unread : (n.items ?? []).filter((i) => !i.read_at).length
  } catch {
    /* as above */
  }
}
