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
    // unread_count counts all of the caller's unread notifications, whatever the page size.
    const n = await call(api.GET('/api/v1/me/notifications', { params: { query: { limit: 1, unread: true } } }))
    counts.unread = n.unread_count ?? 0
  } catch {
    /* as above */
  }
}
