// Routes of the admin area (registered in src/router.ts): 系统设置 (admins; others get the 403 of
// the API when they save, and the menu hides the entry).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: '/admin/settings', name: 'admin-settings', component: () => import('./SettingsPage.vue'), meta: { title: 'admin.settings.title' } },
]
