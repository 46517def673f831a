// Downloads and previews through fetch (session cookie, same origin): a blob, then an <a download>
// click or a blob: URL for an <img>/<iframe> (the CSP allows frame-src blob:).
import { authHeaders } from '@/api/client'
import { toApiError } from '@/api/errors'

export async function fetchBlob(url: string): Promise<{ blob: Blob; filename: string }> {
  const r = await fetch(url, { credentials: 'same-origin', headers: authHeaders() })
  if (!r.ok) {
    let body: unknown = null
    try {
      body = await r.json()
    } catch {
      body = null
    }
    throw toApiError(r.status, body)
  }
  const cd = r.headers.get('Content-Disposition') ?? ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  const plain = /filename="?([^";]+)"?/i.exec(cd)
  const filename = star ? decodeURIComponent(star[1]) : plain ? plain[1] : ''
  return { blob: await r.blob(), filename }
}

/** Download a file answer; resolves to the file name used. */
export async function download(url: string, fallbackName: string): Promise<string> {
  const { blob, filename } = await fetchBlob(url)
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  const name = filename || fallbackName
  a.download = name
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
  return name
}
