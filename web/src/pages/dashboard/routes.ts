// Routes of the dashboard area (registered in src/router.ts): 工作台 and 数据看板.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: () => import('@/pages/dashboard/HomePage.vue'), meta: { title: 'nav.home' } },
  { path: '/dashboard', name: 'dashboard', component: () => import('@/pages/dashboard/DashboardPage.vue'), meta: { title: 'nav.dashboard' } },
]
