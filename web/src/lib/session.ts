// Who is signed in (GET /api/v1/me), loaded once per page load and after sign-in.
import { reactive } from 'vue'
import { api, call } from '@/api/client'
import type { components } from '@/api/schema'

export type Me = components['schemas']['MeOut']

export const session = reactive<{ me: Me | null; loaded: boolean }>({ me: null, loaded: false })

export async function loadMe(): Promise<Me | null> {
  try {
    session.me = await call(api.GET('/api/v1/me'))
  } catch {
    session.me = null
  }
  session.loaded = true
  return session.me
}

export function hasRole(role: string): boolean {
  const roles = (session.me?.user as { roles?: string[] } | undefined)?.roles ?? []
  return roles.includes(role) || roles.includes('admin')
}

export async function signOut(): Promise<void> {
  await fetch('/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': (document.cookie.match(/(?:^|;\s*)bb_csrf=([^;]+)/) ?? [])[1] ?? '' } })
  session.me = null
}
