// Conditions as the registry evaluates them: CEL over fields (defaults applied) and project; a
// condition that cannot be evaluated hides the field (visible_when) / does not require it.
import { describe, expect, it } from 'vitest'
import { fieldStates, holds, projectFacts, withDefaults } from '@/components/form/rules'
import type { FormFieldDef } from '@/components/form/types'

const project = projectFacts({ name: 'P', amount: '150000.50', region: '华东', customer: { name: '某公司' } })
const fields: FormFieldDef[] = [
  { key: 'bid_type', label: '采购方式', type: 'select', options: ['公开招标', '邀请招标'] },
  { key: 'tender_no', label: '招标编号', type: 'text', visible_when: 'fields.bid_type == "公开招标"', required_when: 'fields.bid_type == "公开招标"' },
  { key: 'big_note', label: '大额说明', type: 'textarea', required_when: 'project.amount >= 100000' },
  { key: 'region_note', label: '区域说明', type: 'text', visible_when: 'project.region == "华东" && project.customer.name != ""' },
  { key: 'level', label: '级别', type: 'select', options: ['A', 'B'], default: 'A' },
  { key: 'a_only', label: 'A 级附加', type: 'text', visible_when: 'fields.level == "A"' },
  { key: 'broken', label: '坏条件', type: 'text', visible_when: 'fields.nope > 3', required_when: 'size(' },
  { key: 'not_bool', label: '非布尔', type: 'text', required_when: '"yes"' },
]

describe('conditions', () => {
  it('visible_when follows the values', () => {
    expect(fieldStates(fields, {}, project).tender_no).toEqual({ visible: false, required: false })
    expect(fieldStates(fields, { bid_type: '公开招标' }, project).tender_no).toEqual({ visible: true, required: true })
    expect(fieldStates(fields, { bid_type: '邀请招标' }, project).tender_no.visible).toBe(false)
  })
  it('required_when over project.amount (a number)', () => {
    expect(fieldStates(fields, {}, project).big_note.required).toBe(true)
    expect(fieldStates(fields, {}, projectFacts({ amount: '99999.99' })).big_note.required).toBe(false)
    expect(fieldStates(fields, {}, projectFacts({ amount: '' })).big_note.required).toBe(false)
  })
  it('project facts: nested customer, region', () => {
    expect(fieldStates(fields, {}, project).region_note.visible).toBe(true)
    expect(fieldStates(fields, {}, projectFacts({ region: '华北' })).region_note.visible).toBe(false)
  })
  it('defaults apply to what conditions see', () => {
    expect(withDefaults(fields, { level: '' })).toEqual({ level: 'A' })
    expect(fieldStates(fields, {}, project).a_only.visible).toBe(true)
    expect(fieldStates(fields, { level: 'B' }, project).a_only.visible).toBe(false)
  })
  it('an expression that fails or is not boolean does not hold', () => {
    const st = fieldStates(fields, {}, project)
    expect(st.broken).toEqual({ visible: false, required: false })
    expect(st.not_bool.required).toBe(false)
    expect(holds('1 +', {})).toBeNull()
    expect(holds('fields.x', { fields: {} })).toBeNull()
    expect(holds('true', {})).toBe(true)
  })
})
