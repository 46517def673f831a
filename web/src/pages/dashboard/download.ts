// Files from the API (exports, report tables): fetch with the session → blob → a[download].
// openapi-fetch parses JSON, so file answers go through fetch with the client's headers.
import { authHeaders } from '@/api/client'
import { toApiError } from '@/api/errors'
import { fileNameOf } from './charts'

export async function downloadFile(path: string, query: Record<string, string>, fallbackName: string): Promise<string> {
  const url = path + '?' + new URLSearchParams(query).toString()
  const r = await fetch(url, { credentials: 'same-origin', headers: authHeaders('GET') })
  if (!r.ok) {
    let body: unknown = null
    try {
      body = await r.json()
    } catch {
      body = null
    }
    throw toApiError(r.status, body)
  }
  const blob = await r.blob()
  const name = fileNameOf(r.headers.get('Content-Disposition'), fallbackName)
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = name
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
  return name
}
