// @mentions in a comment's plain text: finding the `@…` being typed at the caret, putting a
// picked person's name in its place, keeping only the people whose `@name` is still in the text
// (so deleting the text un-mentions them), and splitting a stored body into text and mentions
// for display. Pure: no DOM, no API.

export interface Person {
  id: string
  name: string
}

export interface MentionQuery {
  /** Index of the `@` in the text. */
  start: number
  /** What was typed after it (may be empty). */
  query: string
}

// An `@` not glued to a Latin word (so a@b.com is no mention; 请@张三 is), then up to 20
// non-space characters; a name ends at the end, a space or anything but a letter or digit.
const TYPING = /(?<![A-Za-z0-9_.@])@([^\s@]{0,20})$/u
const BEFORE = '(?<![A-Za-z0-9_.@])@'
const AFTER = '(?=$|[^\\p{L}\\p{N}_])'

/** The mention being typed just before `caret`, or null. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, Math.max(0, Math.min(caret, text.length)))
  const m = TYPING.exec(before)
  if (!m) return null
  return { start: before.length - m[1].length - 1, query: m[1] }
}

/** The text with `@query` (from `q.start` to `caret`) replaced by `@name ` and the caret after it. */
export function insertMention(text: string, q: MentionQuery, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `
  const out = text.slice(0, q.start) + inserted + text.slice(Math.max(caret, q.start))
  return { text: out, caret: q.start + inserted.length }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function mentionRe(name: string): RegExp {
  return new RegExp(`${BEFORE}${escapeRe(name)}${AFTER}`, 'u')
}

/** The picked people whose `@name` is still in the text, in the order picked, without repeats. */
export function keptMentions(text: string, picked: Person[]): Person[] {
  const seen = new Set<string>()
  const out: Person[] = []
  for (const p of picked) {
    if (!p.name || seen.has(p.id) || !mentionRe(p.name).test(text)) continue
    seen.add(p.id)
    out.push(p)
  }
  return out
}

export interface Segment {
  text: string
  /** Set on an `@name` of a mentioned person. */
  userId?: string
}

/** The body split into plain text and `@name` segments of the mentioned people (a longer name
 * is tried first, and a name must end where the text's word ends: @张三丰 is never @张三 + 丰). */
export function segments(body: string, mentioned: Person[]): Segment[] {
  const people = mentioned.filter((p) => p.name).sort((a, b) => b.name.length - a.name.length)
  if (!people.length || !body) return body ? [{ text: body }] : []
  const alt = people.map((p) => escapeRe(p.name)).join('|')
  const re = new RegExp(`${BEFORE}(${alt})${AFTER}`, 'gu')
  const byName = new Map(people.map((p) => [p.name, p.id]))
  const out: Segment[] = []
  let last = 0
  for (const m of body.matchAll(re)) {
    const at = m.index ?? 0
    if (at > last) out.push({ text: body.slice(last, at) })
    out.push({ text: m[0], userId: byName.get(m[1]) })
    last = at + m[0].length
  }
  if (last < body.length) out.push({ text: body.slice(last) })
  return out
}

/** "mentions[2]" → 2 (the index of a refused mention in an API error), else null. */
export function mentionIndex(field: string): number | null {
  const m = /^mentions\[(\d+)\]$/.exec(field)
  return m ? Number(m[1]) : null
}
