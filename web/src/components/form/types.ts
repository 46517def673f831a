// A form definition as GET /api/v1/forms/{form_key} returns it (FormOut / FormFieldOut), with the
// conditional keys (required_when, visible_when, default, accept, max_size) typed.
import type { components } from '@/api/schema'

export type FieldType =
  | 'text' | 'textarea' | 'number' | 'money' | 'date' | 'select' | 'multiselect'
  | 'phone' | 'email' | 'uscc' | 'user' | 'department' | 'attachment'

export interface FormFieldDef {
  key: string
  label: string
  type: FieldType | string
  required?: boolean
  options?: (string | number)[]
  min?: string | number | null
  max?: string | number | null
  min_length?: number | null
  max_length?: number | null
  pattern?: string | null
  read_roles?: string[]
  write_roles?: string[]
  required_when?: string | null
  visible_when?: string | null
  default?: unknown
  accept?: string[]
  max_size?: number | null
}

export type FormOut = components['schemas']['FormOut']

/** The fields of a form as the API answered them (extra keys typed). */
export function fieldsOf(form: FormOut | null | undefined): FormFieldDef[] {
  return (form?.fields ?? []) as unknown as FormFieldDef[]
}

export type Values = Record<string, unknown>

/** What CEL sees as `project` (the core fields; amount as a number). */
export interface ProjectFacts {
  name: string
  amount: number
  region: string
  business_line: string
  start_date: string
  end_date: string
  customer: { name: string; uscc?: string }
}
