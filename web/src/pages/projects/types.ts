// Shapes of the project API answers this area reads (the schema types the task/schedule routes as
// plain objects, so they are spelled out here from edge/routes/tasks.py).
import type { components } from '@/api/schema'

export type Project = components['schemas']['ProjectOut']
export type ProjectSummary = components['schemas']['ProjectSummary']
export type Approval = components['schemas']['ApprovalOut']
export type Step = components['schemas']['StepOut']
export type Decision = components['schemas']['DecisionOut']

export interface Dependency {
  task_id: string
  type: 'FS' | 'SS' | 'FF' | 'SF'
  lag_days: number
}

export interface Task {
  id: string
  name: string
  assignee_id: string | null
  start: string | null
  due: string | null
  duration_days: number
  milestone: boolean
  status: string
  progress: number
  depends_on: Dependency[]
  parent_id: string | null
  deliverables: number
  delay_reason: string | null
}

export interface ScheduleTask {
  id: string
  name: string
  start: string | null
  finish: string | null
  critical: boolean
  slack_days: number
  status: string
  parent_id?: string | null
  summary?: boolean
  milestone?: boolean
  duration_days?: number
  progress?: number
  assignee_id?: string | null
  baseline_start?: string | null
  baseline_finish?: string | null
  finish_variance_days?: number | null
  depends_on?: Dependency[]
}

export interface Schedule {
  tasks: ScheduleTask[]
  start?: string | null
  finish: string | null
  duration_days?: number
  critical_path?: string[]
  baseline?: { number: number; finish: string | null } | null
  forecast?: { finish: string | null; planned_finish: string | null; slip_days: number; velocity: number; samples: number; basis: string } | null
}

export interface Costs {
  budget: string | null
  actual: string
  remaining: string | null
  consumed_share: string | null
  by_kind: Record<string, string>
  by_task: { task_id: string; name: string; actual: string }[]
}

export interface Deliverable {
  id: string
  task_id: string
  filename: string
  content_type: string
  size: number
  uploaded_by: string
  created_at: string | null // null when the service has no time for it
  content_url: string
}

export interface RuleFire {
  key: string
  rule: string
  task_id: string | null
  title: string
  recipients: string[]
  fired_at: string
}

export interface FormField {
  key: string
  label: string
  type: string
  options?: string[]
}

export interface ProjectReport {
  project?: { health?: string; reasons?: string[]; spi?: number | null; cpi?: number | null; open_tasks?: number; overdue_tasks?: number }
}
