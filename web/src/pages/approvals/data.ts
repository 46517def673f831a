// Data of the approvals area: projects (cached for the page's life), the caller's decided tasks
// (GET /api/v1/me/approvals/done), reactive user names, and the helpers the list and the task page
// share (waiting since, SLA overdue, decisions with an Idempotency-Key).
import { reactive } from 'vue'
import { api, call } from '@/api/client'
import type { components } from '@/api/schema'
import { userName } from '@/lib/people'
import { ElMessage } from 'element-plus'
import './approvals.css'

export type Project = components['schemas']['ProjectOut']
export type Step = components['schemas']['StepOut']
export type Todo = components['schemas']['TodoOut']
export type Cc = components['schemas']['CcOut']
export type Decision = components['schemas']['DecisionOut']
export type Summary = components['schemas']['ProjectSummary']
export type Form = components['schemas']['FormOut']
export type DecisionAction = 'approve' | 'reject' | 'return' | 'transfer' | 'add_approver'

export type DoneItem = components['schemas']['DecidedOut']

// ---------------------------------------------------------------- projects

const projects = new Map<string, Promise<Project | null>>()

/** GET /api/v1/projects/{id}, once per page life (null when it cannot be read). */
export function project(id: string, fresh = false): Promise<Project | null> {
  if (fresh || !projects.has(id)) {
    projects.set(
      id,
      call(api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: id } } })).catch(() => null),
    )
  }
  return projects.get(id)!
}

/** The same, throwing the API's error (the task page shows it). */
export async function projectOrThrow(id: string): Promise<Project> {
  const p = call(api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: id } } }))
  projects.set(id, p.catch(() => null))
  return p
}

export function forgetProject(id: string): void {
  projects.delete(id)
}

const forms = new Map<string, Promise<Form | null>>()
export function form(key: string): Promise<Form | null> {
  if (!forms.has(key)) {
    forms.set(key, call(api.GET('/api/v1/forms/{form_key}', { params: { path: { form_key: key } } })).catch(() => null))
  }
  return forms.get(key)!
}

// ---------------------------------------------------------------- done (已办)

/** GET /api/v1/me/approvals/done (newest first, paged by cursor). */
export async function doneTasks(cursor?: string | null): Promise<{ items: DoneItem[]; next_cursor: string | null }> {
  const page = await call(api.GET('/api/v1/me/approvals/done', { params: { query: { limit: 50, cursor: cursor ?? undefined } } }))
  return { items: page.items, next_cursor: page.next_cursor ?? null }
}

// ---------------------------------------------------------------- names

/** Reactive names of user ids: `names.of(id)` is the id's name once loaded (a dash until then). */
const known = reactive<Record<string, string>>({})
export function nameOf(id: string | null | undefined): string {
  if (!id) return ''
  if (!(id in known)) {
    known[id] = '…'
    void userName(id).then((n) => (known[id] = n))
  }
  return known[id]
}

// ---------------------------------------------------------------- chain helpers

export function stepsOf(p: Project | null | undefined): Step[] {
  return p?.approval?.steps ?? []
}

/** Index of the step waiting now (pending), or -1. */
export function currentStepIndex(p: Project | null): number {
  return stepsOf(p).findIndex((s) => s.status === 'pending')
}

/** When the open step started waiting: its `opened_at`, else (older records) the latest submit
 * or decision before it. */
export function waitingSince(p: Project | null): string | null {
  if (!p) return null
  const idx = currentStepIndex(p)
  if (idx < 0) return null
  const opened = (stepsOf(p)[idx] as { opened_at?: string | null }).opened_at
  if (opened) return opened
  const times: string[] = []
  for (const h of p.history) if (h.event === 'submitted' && h.at) times.push(h.at)
  stepsOf(p).slice(0, idx).forEach((s) => s.decisions.forEach((d) => d.at && times.push(d.at)))
  times.sort()
  return times.length ? times[times.length - 1] : null
}

export function isOverdue(due: string | null | undefined, now: Date = new Date()): boolean {
  return Boolean(due) && new Date(String(due)).getTime() < now.getTime()
}

/** A fresh Idempotency-Key per user intent (a retry of the same click reuses it). */
export function idempotencyKey(): string {
  const c = globalThis.crypto as Crypto | undefined
  if (c && 'randomUUID' in c) return c.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

export interface DecisionBody {
  action: DecisionAction
  comment?: string
  to_user_id?: string
  position?: 'before' | 'after' | 'parallel'
  to_step?: number
}

/** POST /api/v1/approval-tasks/{id}/decision with an Idempotency-Key. */
export function decide(taskId: string, body: DecisionBody, key: string = idempotencyKey()): Promise<{ project_id: string; status: string }> {
  return call(
    api.POST('/api/v1/approval-tasks/{task_id}/decision', {
      params: { path: { task_id: taskId } },
      headers: { 'Idempotency-Key': key },
      body: { comment: '', position: 'parallel', ...body },
    }),
  )
}

/** A success toast in a green that meets AA on its tint (the theme's is 4.48:1; see approvals.css). */
export function okMessage(message: string): void {
  ElMessage({ type: 'success', message, customClass: 'ap-ok' })
}
