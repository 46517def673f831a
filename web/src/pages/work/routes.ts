// Routes of the work area (registered in src/router.ts): my tasks, one task, the inbox and its settings.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: '/my-tasks', name: 'my-tasks', component: () => import('./MyTasksPage.vue'), meta: { title: 'work.tasks.title' } },
  { path: '/my-tasks/:taskId', name: 'my-task', component: () => import('./TaskPage.vue'), props: true, meta: { title: 'work.tasks.title' } },
  { path: '/notifications', name: 'notifications', component: () => import('./NotificationsPage.vue'), meta: { title: 'work.notes.title' } },
  {
    path: '/notifications/settings',
    name: 'notification-settings',
    component: () => import('./NotificationSettingsPage.vue'),
    meta: { title: 'work.prefs.title' },
  },
]
