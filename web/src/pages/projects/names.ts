// Names for the ids a project page shows (people, departments), looked up once and kept in a
// reactive map so the template shows 张三 as soon as it is known ("…" until then).
import { reactive } from 'vue'
import { userName, departmentName } from '@/lib/people'

export function useNames() {
  const users = reactive<Record<string, string>>({})
  const depts = reactive<Record<string, string>>({})
  function want(ids: (string | null | undefined)[]): void {
    for (const id of ids) {
      if (!id || id in users) continue
      users[id] = ''
      void userName(id).then((n) => (users[id] = n))
    }
  }
  function wantDepts(ids: (string | null | undefined)[]): void {
    for (const id of ids) {
      if (!id || id in depts) continue
      depts[id] = ''
      void departmentName(id).then((n) => (depts[id] = n))
    }
  }
  const user = (id: string | null | undefined): string => (id ? users[id] || '…' : '—')
  const dept = (id: string | null | undefined): string => (id ? depts[id] || '…' : '—')
  return { users, depts, want, wantDepts, user, dept }
}
export type Names = ReturnType<typeof useNames>
