// The approvals area's chain helpers: the open step, how long it has waited, SLA overdue.
import { describe, expect, it } from 'vitest'
import { currentStepIndex, isOverdue, stepsOf, waitingSince, type Project } from '@/pages/approvals/data'

function project(steps: object[], history: object[] = []): Project {
  return { approval: { steps }, history } as unknown as Project
}

describe('approval chain helpers', () => {
  const submitted = { event: 'submitted', at: '2026-12-01T08:00:00Z', actor: 'zhangsan' }
  const first = { name: '部门经理审批', status: 'approved', approvers: ['lisi'], decisions: [{ user_id: 'lisi', action: 'approve', at: '2026-12-01T10:00:00Z' }] }
  const second = { name: '财务审批', status: 'pending', approvers: ['wangwu'], decisions: [], due_at: '2026-12-04T10:00:00Z' }

  it('finds the open step and waits from the last decision before it', () => {
    const p = project([first, second], [submitted])
    expect(currentStepIndex(p)).toBe(1)
    expect(waitingSince(p)).toBe('2026-12-01T10:00:00Z')
  })

  it('waits from the submission on the first step, and not at all once decided', () => {
    expect(waitingSince(project([{ ...first, status: 'pending', decisions: [] }], [submitted]))).toBe('2026-12-01T08:00:00Z')
    expect(waitingSince(project([first], [submitted]))).toBeNull()
    expect(stepsOf(null)).toEqual([])
  })

  it('is overdue only past the due time', () => {
    const now = new Date('2026-12-04T11:00:00Z')
    expect(isOverdue('2026-12-04T10:00:00Z', now)).toBe(true)
    expect(isOverdue('2026-12-05T10:00:00Z', now)).toBe(false)
    expect(isOverdue(null, now)).toBe(false)
  })
})
