// Errors in the contract's shape: {"error": {"code", "message", "details": [{"field", "message"}]}}.
export interface FieldError {
  field: string
  message: string
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: FieldError[],
  ) {
    super(message)
  }

  /** Field errors keyed by path (e.g. "fields.budget", "customer.uscc"). */
  byField(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const d of this.details) if (d.field && !out[d.field]) out[d.field] = d.message
    return out
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  const err = (body as { error?: { code?: string; message?: string; details?: FieldError[] } } | null)?.error
  if (err && typeof err.message === 'string') {
    const details = Array.isArray(err.details) ? err.details.filter((d) => d && typeof d.message === 'string') : []
    return new ApiError(status, err.code ?? 'error', err.message, details)
  }
  return new ApiError(status, 'http_' + status, status >= 500 ? '服务暂时不可用，请稍后重试' : '请求失败（' + status + '）', [])
}

/** A human message for anything thrown (ApiError or otherwise). */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    const first = e.details[0]
    return first && e.details.length === 1 && first.message !== e.message ? `${e.message}：${first.message}` : e.message
  }
  return e instanceof Error ? e.message : String(e)
}
