// The client checks against the registry's own: USCC check character (services/registry/uscc.py),
// mainland mobile numbers, e-mail, and each field type's value check (forms.py `_check_value`).
import { describe, expect, it } from 'vitest'
import { checkFile, checkValue, isEmail, isMobile, isValidUscc, usccCheckChar, centsOnly, isIsoDate } from '@/components/form/validators'
import type { FormFieldDef } from '@/components/form/types'

describe('USCC', () => {
  // Check characters computed by services/registry/uscc.py check_char.
  it.each([
    ['91350100M000100Y4', '3'],
    ['91110000600037341', 'L'],
    ['12100000400000718', 'E'],
    ['9144030071526726X', 'G'],
  ])('check character of %s is %s', (first17, ch) => {
    expect(usccCheckChar(first17)).toBe(ch)
    expect(isValidUscc(first17 + ch)).toBe(true)
  })
  it('is trimmed and case-insensitive', () => {
    expect(isValidUscc(' 91110000600037341l ')).toBe(true)
  })
  it('refuses a wrong check character, length, or alphabet', () => {
    expect(isValidUscc('91350100M000100Y44')).toBe(false)
    expect(isValidUscc('91350100M000100Y4')).toBe(false)
    expect(isValidUscc('91350100M000100Y433')).toBe(false)
    expect(isValidUscc('91350100I000100Y43')).toBe(false) // I is not in the alphabet
    expect(isValidUscc('9135010AM000100Y43')).toBe(false) // the division code is digits
    expect(() => usccCheckChar('123')).toThrow()
  })
})

describe('phone and e-mail', () => {
  it('accepts mainland mobiles only', () => {
    expect(isMobile('13812345678')).toBe(true)
    expect(isMobile('19912345678')).toBe(true)
    expect(isMobile('12812345678')).toBe(false)
    expect(isMobile('1381234567')).toBe(false)
    expect(isMobile('+8613812345678')).toBe(false)
    expect(isMobile('010-12345678')).toBe(false)
  })
  it('checks e-mail shape', () => {
    expect(isEmail('a@b.cn')).toBe(true)
    expect(isEmail('a@b')).toBe(false)
    expect(isEmail('a b@c.cn')).toBe(false)
    expect(isEmail('a@b.')).toBe(false)
  })
})

const f = (type: string, extra: Partial<FormFieldDef> = {}): FormFieldDef => ({ key: 'k', label: '字段', type, ...extra })

describe('checkValue per type (as the registry words it)', () => {
  it('text: lengths and pattern', () => {
    expect(checkValue(f('text', { max_length: 3 }), 'abcd')).toEqual(['字段：长度不能超过 3', '字段: length must be at most 3'])
    expect(checkValue(f('text', { min_length: 2 }), 'a')?.[0]).toBe('字段：长度不能少于 2')
    expect(checkValue(f('text', { pattern: '[A-Z]{2}\\d+' }), 'AB12')).toBeNull()
    expect(checkValue(f('text', { pattern: '[A-Z]{2}\\d+' }), 'AB12x')?.[0]).toBe('字段：格式不符合要求')
    expect(checkValue(f('text', { max_length: 2 }), '中文')).toBeNull()
  })
  it('textarea counts characters', () => {
    expect(checkValue(f('textarea', { max_length: 5 }), '123456')?.[0]).toContain('长度不能超过 5')
  })
  it('number: numeric, bounds', () => {
    expect(checkValue(f('number', { min: 1, max: 500 }), 0)?.[0]).toBe('字段：不能小于 1')
    expect(checkValue(f('number', { min: 1, max: 500 }), 501)?.[0]).toBe('字段：不能大于 500')
    expect(checkValue(f('number', { min: 1, max: 500 }), 12)).toBeNull()
    expect(checkValue(f('number'), 'abc')?.[0]).toBe('字段：必须是数字')
    expect(checkValue(f('number'), 1e17)?.[0]).toBe('字段：数值过大')
  })
  it('money: two decimals, bounds from strings', () => {
    expect(checkValue(f('money'), '12.345')?.[0]).toBe('字段：金额最多两位小数')
    expect(checkValue(f('money'), '12.30')).toBeNull()
    expect(checkValue(f('money'), 'x')?.[0]).toBe('字段：必须是金额')
    expect(checkValue(f('money', { min: '100.00' }), '99.99')?.[0]).toBe('字段：不能小于 100.00')
    expect(centsOnly('1.500')).toBe(true)
  })
  it('date: ISO and bounds', () => {
    expect(checkValue(f('date'), '2026-02-30')?.[0]).toBe('字段：必须是 ISO 日期（YYYY-MM-DD）')
    expect(checkValue(f('date', { min: '2026-01-01' }), '2025-12-31')?.[0]).toBe('字段：不能小于 2026-01-01')
    expect(checkValue(f('date', { max: '2026-12-31' }), '2026-06-01')).toBeNull()
    expect(isIsoDate('2026-1-1')).toBe(false)
  })
  it('select and multiselect: options, counts', () => {
    expect(checkValue(f('select', { options: ['a', 'b'] }), 'c')?.[0]).toBe('字段：不在可选项中')
    expect(checkValue(f('select', { options: ['a', 'b'] }), 'a')).toBeNull()
    expect(checkValue(f('multiselect', { options: ['a', 'b'] }), ['a', 'x'])?.[0]).toBe('字段：不在可选项中：x')
    expect(checkValue(f('multiselect', { options: ['a', 'b'], max_length: 1 }), ['a', 'b'])?.[0]).toBe('字段：长度不能超过 1')
    expect(checkValue(f('multiselect', { options: ['a'] }), 'a')?.[0]).toBe('字段：必须是选项列表')
  })
  it('phone, email, uscc', () => {
    expect(checkValue(f('phone'), '123')?.[0]).toBe('字段：必须是有效的中国大陆手机号')
    expect(checkValue(f('phone'), '13812345678')).toBeNull()
    expect(checkValue(f('email'), 'nope')?.[0]).toBe('字段：必须是有效的电子邮箱')
    expect(checkValue(f('uscc'), '91350100M000100Y44')?.[0]).toBe('字段：统一社会信用代码无效')
    expect(checkValue(f('uscc'), '91350100m000100y43')).toBeNull()
  })
  it('user, department: ids (existence is the server\'s to check)', () => {
    expect(checkValue(f('user'), 'lisi')).toBeNull()
    expect(checkValue(f('department'), 'd-sales')).toBeNull()
    expect(checkValue(f('user'), 3)?.[0]).toBe('字段：必须是文本')
  })
  it('attachment: ids, files against accept and size', () => {
    expect(checkValue(f('attachment'), ['sha256:ab'])).toBeNull()
    expect(checkValue(f('attachment'), 'sha256:ab')).toBeNull()
    expect(checkValue(f('attachment'), [''])?.[0]).toBe('字段：必须是附件 ID')
    const pdf = f('attachment', { accept: ['.pdf', 'image/*'], max_size: 1000 })
    expect(checkFile(pdf, { name: 'a.PDF', type: 'application/pdf', size: 10 })).toBeNull()
    expect(checkFile(pdf, { name: 'a.png', type: 'image/png', size: 10 })).toBeNull()
    expect(checkFile(pdf, { name: 'a.exe', type: 'application/x-msdownload', size: 10 })?.[0]).toBe('附件 a.exe 的类型不允许')
    expect(checkFile(pdf, { name: 'b.pdf', type: 'application/pdf', size: 2000 })?.[0]).toBe('附件 b.pdf 超过大小上限 1000 字节')
  })
})
