// Files from the API (exports, report tables) with the dashboard's filters as the query.
import { download } from '@/lib/download'

export function downloadFile(path: string, query: Record<string, string>, fallbackName: string): Promise<string> {
  return download(path + '?' + new URLSearchParams(query).toString(), fallbackName)
}
