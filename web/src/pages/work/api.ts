// The work area's API shapes and the calls openapi-fetch does not carry well: the task routes
// answer untyped dicts in the OpenAPI document, so their shapes are written down here (as the
// edge's task_out / _cost_out / _deliverable_out build them); deliverable uploads are multipart
// with progress. Everything else goes through api.GET/POST in the pages.
import { api, call, postMultipart } from '@/api/client'
import type { Deliverable } from '@/pages/projects/types'

export type TaskStatus = 'todo' | 'in_progress' | 'done' | 'blocked'
export const TASK_STATUSES: TaskStatus[] = ['todo', 'in_progress', 'blocked', 'done']

export interface Task {
  id: string
  project_id: string
  name: string
  assignee_id: string | null
  start: string | null
  due: string | null
  duration_days: number
  milestone: boolean
  status: TaskStatus
  progress: number
  parent_id: string | null
  estimate_hours: string | null
  requires_deliverables: boolean
  actual_start: string | null
  done_at: string | null
  delay_reason: string | null
  deliverables?: number
  version: number
  created_at?: string | null
  updated_at?: string | null
}

export interface TaskProject {
  id: string
  code: string
  name: string
  status: string
}

export interface MyTask extends Task {
  project: TaskProject
}

export interface CostEntry {
  id: string
  task_id: string | null
  kind: 'timesheet' | 'expense' | 'purchase'
  hours: string | null
  rate: string | null
  amount: string
  note: string
  at: string
  actor_id: string
}

// A task's deliverable: the same shape the project page reads.
export type { Deliverable } from '@/pages/projects/types'

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/** GET /api/v1/me/tasks: my tasks across projects (by due date), each with its project's code and name. */
export async function myTasks(query: { status?: TaskStatus | 'open'; limit?: number; cursor?: string | null }): Promise<Page<MyTask>> {
  const page = await call(
    api.GET('/api/v1/me/tasks', { params: { query: { status: query.status, limit: query.limit ?? 100, cursor: query.cursor ?? undefined } } }),
  )
  return {
    items: page.items.map((x) => ({ ...(x as unknown as Task), project: x.project ?? { id: x.project_id, code: '', name: '', status: '' } })),
    next_cursor: page.next_cursor ?? null,
  }
}

export function getTask(taskId: string): Promise<Task> {
  return call(api.GET('/api/v1/tasks/{task_id}', { params: { path: { task_id: taskId } } })) as Promise<unknown> as Promise<Task>
}

export function patchTask(
  taskId: string,
  body: { status?: TaskStatus; progress?: number; version?: number; delay_reason?: string },
): Promise<Task> {
  return call(api.PATCH('/api/v1/tasks/{task_id}', { params: { path: { task_id: taskId } }, body })) as Promise<unknown> as Promise<Task>
}

export function listDeliverables(taskId: string): Promise<Deliverable[]> {
  return call(api.GET('/api/v1/tasks/{task_id}/deliverables', { params: { path: { task_id: taskId } } })).then(
    (r) => ((r as { items?: Deliverable[] }).items ?? []),
  )
}

/** POST /api/v1/tasks/{id}/deliverables (multipart: file, note) with upload progress 0..100. */
export function uploadDeliverable(taskId: string, file: File, note: string, onProgress?: (p: number) => void): Promise<Deliverable> {
  const form = new FormData()
  form.append('file', file)
  if (note) form.append('note', note)
  return postMultipart(`/api/v1/tasks/${encodeURIComponent(taskId)}/deliverables`, form, onProgress)
}

// ---- pure helpers (unit-tested in web/tests/work.test.ts)

/** Today as an ISO date in the viewer's zone. */
export function todayIso(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

function dayNumber(iso: string): number {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  return Math.round(Date.UTC(y, m - 1, d) / 86400000)
}

/** Whole days from today to the due date (negative = overdue by that many days); null without a due date. */
export function daysLeft(due: string | null | undefined, today: string): number | null {
  if (!due) return null
  return dayNumber(due) - dayNumber(today)
}

export function isOverdue(t: Pick<Task, 'due' | 'status'>, today: string): boolean {
  const left = daysLeft(t.due, today)
  return t.status !== 'done' && left !== null && left < 0
}

export type DueBucket = 'overdue' | 'today' | 'week' | 'later' | 'none' | 'done'
export const DUE_BUCKETS: DueBucket[] = ['overdue', 'today', 'week', 'later', 'none', 'done']

export function dueBucket(t: Pick<Task, 'due' | 'status'>, today: string): DueBucket {
  if (t.status === 'done') return 'done'
  const left = daysLeft(t.due, today)
  if (left === null) return 'none'
  if (left < 0) return 'overdue'
  if (left === 0) return 'today'
  if (left <= 7) return 'week'
  return 'later'
}

/** Tasks ordered by due date (none last), then by name. */
export function byDue<T extends Pick<Task, 'due' | 'name'>>(tasks: T[]): T[] {
  return [...tasks].sort((a, b) => {
    if (a.due !== b.due) {
      if (!a.due) return 1
      if (!b.due) return -1
      return a.due < b.due ? -1 : 1
    }
    return a.name.localeCompare(b.name, 'zh-CN')
  })
}

/** Groups in a fixed order, empty ones left out. */
export function groupByDue<T extends Pick<Task, 'due' | 'status' | 'name'>>(tasks: T[], today: string): { key: DueBucket; items: T[] }[] {
  const sorted = byDue(tasks)
  return DUE_BUCKETS.map((key) => ({ key, items: sorted.filter((t) => dueBucket(t, today) === key) })).filter((g) => g.items.length)
}

export function fileSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return ''
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

// ---- notification channels ----
export type NotifyChannel = 'email' | 'dingtalk' | 'wecom' | 'dingtalk_app' | 'wecom_app' | 'feishu_app'
export const ALL_CHANNELS: NotifyChannel[] = ['email', 'dingtalk', 'wecom', 'dingtalk_app', 'wecom_app', 'feishu_app']
export const BASE_CHANNELS: NotifyChannel[] = ['email', 'dingtalk', 'wecom']

/** The channels the settings page offers: what the installation has (`available`: enterprise apps
 *  once an admin enabled one; e-mail and robots when unknown) plus anything the user already chose,
 *  so a channel disabled later still shows and can be unticked. */
export function offeredChannels(available: string[] | undefined, chosen: Iterable<string>): NotifyChannel[] {
  const offered = available?.length ? available : BASE_CHANNELS
  const picked = new Set(chosen)
  return ALL_CHANNELS.filter((c) => offered.includes(c) || picked.has(c))
}
