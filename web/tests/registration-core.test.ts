// The core project fields of 发起报备: checks worded as the registry's validate_project, and the
// bodies sent to create / PATCH (hidden or emptied fields cleared with null) / simulate.
import { describe, expect, it } from 'vitest'
import { checkCore, coreOf, createBody, emptyCore, patchBody } from '@/pages/registration/core'
import { ApiError, toApiError } from '@/api/errors'

const good = () => ({ ...emptyCore(), name: '智慧园区', amount: '150000', customer: { name: '某某科技', uscc: '91350100m000100y43', contact: '', phone: '13812345678' } })

describe('core checks', () => {
  it('requires name, customer name, amount', () => {
    const p = checkCore(emptyCore())
    expect(p.name?.[0]).toBe('项目名称为必填项')
    expect(p['customer.name']?.[0]).toBe('客户名称为必填项')
    expect(p.amount?.[0]).toBe('金额为必填项')
  })
  it('checks USCC, phone, amount, dates', () => {
    const c = good()
    expect(checkCore(c)).toEqual({})
    c.customer.uscc = '91350100M000100Y44'
    c.customer.phone = '021-1234'
    c.amount = '-1'
    c.start_date = '2026-05-01'
    c.end_date = '2026-04-30'
    const p = checkCore(c)
    expect(p['customer.uscc']?.[0]).toContain('统一社会信用代码无效')
    expect(p['customer.phone']?.[0]).toBe('客户电话必须是有效的中国大陆手机号')
    expect(p.amount?.[0]).toBe('金额不能为负数')
    expect(p.end_date?.[0]).toBe('结束日期不能早于开始日期')
    expect(checkCore({ ...good(), amount: '1.234' }).amount?.[0]).toBe('金额最多两位小数')
    expect(checkCore({ ...good(), amount: 'abc' }).amount?.[0]).toBe('金额必须是数字')
  })
})

describe('bodies', () => {
  it('create: trimmed, USCC upper-cased, empties left out', () => {
    const b = createBody('standard', good(), { industry: '政府' }, true)
    expect(b).toMatchObject({ form_key: 'standard', name: '智慧园区', amount: '150000', submit: true, fields: { industry: '政府' } })
    expect(b.customer).toEqual({ name: '某某科技', uscc: '91350100M000100Y43', contact: undefined, phone: '13812345678' })
    expect(b.region).toBeUndefined()
  })
  it('patch: the version, and null for each saved field no longer sent', () => {
    const b = patchBody(3, good(), { industry: '政府' }, ['industry', 'tender_no'])
    expect(b.version).toBe(3)
    expect(b.fields).toEqual({ industry: '政府', tender_no: null })
  })
  it('reads a project back', () => {
    const c = coreOf({ name: 'P', amount: '12.50', customer: { name: 'C', uscc: null }, start_date: '2026-01-02' })
    expect(c).toMatchObject({ name: 'P', amount: '12.50', start_date: '2026-01-02', customer: { name: 'C', uscc: '', contact: '', phone: '' } })
  })
})

describe('server errors by field', () => {
  it('maps a 422 onto paths: fields.<key>, customer.uscc, amount', () => {
    const e = toApiError(422, {
      error: { code: 'validation_failed', message: '校验失败', details: [
        { field: 'customer.uscc', message: '统一社会信用代码无效' },
        { field: 'fields.tender_no', message: '招标编号 为必填项' },
        { field: 'amount', message: '金额过大' },
      ] },
    })
    expect(e).toBeInstanceOf(ApiError)
    expect(e.byField()).toEqual({ 'customer.uscc': '统一社会信用代码无效', 'fields.tender_no': '招标编号 为必填项', amount: '金额过大' })
  })
})
