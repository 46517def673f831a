// The fixed project fields (name, customer, amount, region, business line, dates): client checks
// as the registry's validate_project words them (services/registry/domain.py), and the request
// bodies for create / PATCH / simulate. The storage cap on amounts (金额过大) is left to the server.
import { isIsoDate, isMobile, isValidUscc, normaliseUscc, parseDecimal, centsOnly, type Problem } from '@/components/form/validators'
import type { Values } from '@/components/form/types'

export interface Core {
  name: string
  customer: { name: string; uscc: string; contact: string; phone: string }
  amount: string
  region: string
  business_line: string
  start_date: string
  end_date: string
}

export function emptyCore(): Core {
  return { name: '', customer: { name: '', uscc: '', contact: '', phone: '' }, amount: '', region: '', business_line: '', start_date: '', end_date: '' }
}

/** Problems by path ("name", "customer.uscc", "amount", "end_date", …). */
export function checkCore(c: Core): Record<string, Problem> {
  const out: Record<string, Problem> = {}
  if (!c.name.trim()) out.name = ['项目名称为必填项', 'project name is required']
  if (!c.customer.name.trim()) out['customer.name'] = ['客户名称为必填项', 'customer name is required']
  const code = normaliseUscc(c.customer.uscc)
  if (code && !isValidUscc(code)) {
    out['customer.uscc'] = ['统一社会信用代码无效（18 位且校验位正确）', 'invalid unified social credit code (18 characters with a valid check character)']
  }
  const phone = c.customer.phone.trim()
  if (phone && !isMobile(phone)) out['customer.phone'] = ['客户电话必须是有效的中国大陆手机号', 'customer phone must be a valid mainland-China mobile number']
  const amount = c.amount.trim()
  if (!amount) out.amount = ['金额为必填项', 'amount is required']
  else {
    const d = parseDecimal(amount)
    if (d === null) out.amount = ['金额必须是数字', 'amount must be a decimal number']
    else if (d < 0) out.amount = ['金额不能为负数', 'amount must not be negative']
    else if (!centsOnly(amount)) out.amount = ['金额最多两位小数', 'amount may have at most 2 decimal places']
  }
  for (const k of ['start_date', 'end_date'] as const) {
    if (c[k] && !isIsoDate(c[k])) out[k] = ['日期格式必须是 YYYY-MM-DD', 'date must be ISO 8601 (YYYY-MM-DD)']
  }
  if (!out.start_date && !out.end_date && c.start_date && c.end_date && c.end_date < c.start_date) {
    out.end_date = ['结束日期不能早于开始日期', 'end_date must not be before start_date']
  }
  return out
}

function opt(s: string): string | undefined {
  return s.trim() ? s.trim() : undefined
}

/** The body of POST /api/v1/projects (and of simulate, without `submit`). */
export function createBody(formKey: string, c: Core, fields: Values, submit = false) {
  return {
    form_key: formKey,
    name: c.name.trim(),
    customer: { name: c.customer.name.trim(), uscc: opt(normaliseUscc(c.customer.uscc)), contact: opt(c.customer.contact), phone: opt(c.customer.phone) },
    amount: c.amount.trim(),
    region: opt(c.region),
    business_line: opt(c.business_line),
    start_date: opt(c.start_date),
    end_date: opt(c.end_date),
    fields,
    submit,
  }
}

/** The body of PATCH /api/v1/projects/{id}: every core field (empty text clears), the fields to
 * keep, and null for each field saved before that is now hidden or emptied (null clears one). */
export function patchBody(version: number, c: Core, fields: Values, clear: string[]) {
  const merged: Values = { ...fields }
  for (const k of clear) if (!(k in merged)) merged[k] = null
  return {
    version,
    name: c.name.trim(),
    customer: { name: c.customer.name.trim(), uscc: normaliseUscc(c.customer.uscc), contact: c.customer.contact.trim(), phone: c.customer.phone.trim() },
    amount: c.amount.trim(),
    region: c.region.trim(),
    business_line: c.business_line.trim(),
    start_date: c.start_date,
    end_date: c.end_date,
    fields: merged,
  }
}

/** A project as GET /api/v1/projects/{id} answers it, into the page's core inputs. */
export function coreOf(p: {
  name?: string | null
  customer?: { name?: string | null; uscc?: string | null; contact?: string | null; phone?: unknown } | null
  amount?: string | null
  region?: string | null
  business_line?: string | null
  start_date?: string | null
  end_date?: string | null
}): Core {
  const s = (v: unknown) => (v === null || v === undefined ? '' : String(v))
  return {
    name: s(p.name),
    customer: { name: s(p.customer?.name), uscc: s(p.customer?.uscc), contact: s(p.customer?.contact), phone: s(p.customer?.phone) },
    amount: s(p.amount),
    region: s(p.region),
    business_line: s(p.business_line),
    start_date: s(p.start_date).slice(0, 10),
    end_date: s(p.end_date).slice(0, 10),
  }
}
