// Conditional fields, live: `visible_when` / `required_when` are CEL over `fields` (the values with
// defaults applied, empty ones left out) and `project` (the core fields, amount as a number), as
// the registry evaluates them (services/registry/forms.py `validate_values`, cel.py). A condition
// that cannot be evaluated (e.g. it reads a field still empty) or is not boolean does not hold:
// the server then drops the field as hidden and does not require it, so the form does the same.
import { evaluate } from '@marcbachmann/cel-js'
import { isEmpty } from './validators'
import type { FormFieldDef, ProjectFacts, Values } from './types'

/** true / false, or null when `expr` cannot be evaluated on this data or is not boolean. */
export function holds(expr: string, activation: Record<string, unknown>): boolean | null {
  try {
    const r = evaluate(expr, activation)
    return typeof r === 'boolean' ? r : null
  } catch {
    return null
  }
}

/** The values CEL sees: each field's value, or its default when empty; empty ones left out. */
export function withDefaults(fields: FormFieldDef[], values: Values): Values {
  const out: Values = {}
  for (const f of fields) {
    const v = isEmpty(values[f.key]) ? f.default : values[f.key]
    if (v !== null && v !== undefined) out[f.key] = v
  }
  return out
}

export function activation(fields: FormFieldDef[], values: Values, project: ProjectFacts): Record<string, unknown> {
  return { fields: withDefaults(fields, values), project }
}

export interface FieldState {
  visible: boolean
  required: boolean
}

/** Visibility and requiredness of every field for these values. */
export function fieldStates(fields: FormFieldDef[], values: Values, project: ProjectFacts): Record<string, FieldState> {
  const act = activation(fields, values, project)
  const out: Record<string, FieldState> = {}
  for (const f of fields) {
    const visible = !f.visible_when || holds(f.visible_when, act) === true
    const required = visible && (!!f.required || (!!f.required_when && holds(f.required_when, act) === true))
    out[f.key] = { visible, required }
  }
  return out
}

/** The project facts CEL sees, from the page's core inputs. */
export function projectFacts(core: {
  name?: string
  amount?: string | number | null
  region?: string | null
  business_line?: string | null
  start_date?: string | null
  end_date?: string | null
  customer?: { name?: string | null; uscc?: string | null }
}): ProjectFacts {
  const amount = Number(core.amount)
  return {
    name: (core.name ?? '').trim(),
    amount: core.amount !== '' && core.amount != null && Number.isFinite(amount) ? amount : 0,
    region: (core.region ?? '').trim(),
    business_line: (core.business_line ?? '').trim(),
    start_date: core.start_date ?? '',
    end_date: core.end_date ?? '',
    customer: { name: (core.customer?.name ?? '').trim(), uscc: (core.customer?.uscc ?? '').trim().toUpperCase() },
  }
}
