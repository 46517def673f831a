// @mentions in comment text: the query being typed, inserting a picked name, keeping only the
// people still @-ed in the text, and splitting a body into text and mentions for display.
import { describe, expect, it } from 'vitest'
import { insertMention, keptMentions, mentionIndex, mentionQuery, segments } from '@/lib/mentions'

const zs = { id: 'zs', name: '张三' }
const zsf = { id: 'zsf', name: '张三丰' }
const li = { id: 'li', name: '李经理' }

describe('mentions', () => {
  it('finds the @ being typed at the caret, also right after Chinese text, never in an e-mail', () => {
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' })
    expect(mentionQuery('请 @zh', 5)).toEqual({ start: 2, query: 'zh' })
    expect(mentionQuery('请@李', 3)).toEqual({ start: 1, query: '李' })
    expect(mentionQuery('mail a@b.com', 12)).toBeNull()
    expect(mentionQuery('@张三 你好', 7)).toBeNull() // a space ended it
    expect(mentionQuery('@张三 你好', 3)).toEqual({ start: 0, query: '张三' }) // caret inside it
  })

  it('puts the picked name in place of the query, with a space and the caret after it', () => {
    const text = '请 @zh 看一下'
    const q = mentionQuery(text, 5)!
    expect(insertMention(text, q, 5, '张三')).toEqual({ text: '请 @张三  看一下', caret: 6 })
    expect(insertMention('@', { start: 0, query: '' }, 1, '李经理')).toEqual({ text: '@李经理 ', caret: 5 })
  })

  it('keeps only the people whose @name is still in the text, once each, in picked order', () => {
    expect(keptMentions('@李经理 @张三 请看', [zs, li, zs])).toEqual([zs, li])
    expect(keptMentions('@李经理 请看', [zs, li])).toEqual([li])
    expect(keptMentions('@张三丰 请看', [zs, zsf])).toEqual([zsf]) // 张三 is not @-ed by @张三丰
    expect(keptMentions('写信给 x@张三', [zs])).toEqual([]) // glued to a Latin word
  })

  it('splits a body into text and mention segments, longest names first', () => {
    expect(segments('@张三丰 和 @张三，请看', [zs, zsf])).toEqual([
      { text: '@张三丰', userId: 'zsf' }, { text: ' 和 ' }, { text: '@张三', userId: 'zs' }, { text: '，请看' },
    ])
    expect(segments('没有提到人 @王五', [zs])).toEqual([{ text: '没有提到人 @王五' }])
    expect(segments('', [zs])).toEqual([])
    expect(segments('a.b@张三', [zs])).toEqual([{ text: 'a.b@张三' }])
  })

  it('reads the index of a refused mention from an error field', () => {
    expect(mentionIndex('mentions[2]')).toBe(2)
    expect(mentionIndex('mentions')).toBeNull()
    expect(mentionIndex('body')).toBeNull()
  })
})
