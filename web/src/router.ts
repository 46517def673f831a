// Routes (history mode; the edge answers index.html for any path no API route took). Every page
// but /login needs a session: unauthenticated visits go to /login?next=<the page asked for>.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { loadMe, session } from '@/lib/session'
import { setUnauthenticatedHandler } from '@/api/client'
import { routes as registration } from '@/pages/registration/routes'
import { routes as projects } from '@/pages/projects/routes'
import { routes as approvals } from '@/pages/approvals/routes'
import { routes as work } from '@/pages/work/routes'
import { routes as dashboard } from '@/pages/dashboard/routes'
import { routes as admin } from '@/pages/admin/routes'

// Pages are loaded on demand so the first page stays small (ECharts only on the dashboard).
export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/pages/LoginPage.vue'), meta: { public: true, title: 'login.title' } },
  ...dashboard, // '/' (工作台) and /dashboard
  ...registration,
  ...projects,
  ...approvals,
  ...work,
  ...admin,
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/pages/NotFoundPage.vue'), meta: { title: 'app.notFound' } },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  if (!session.loaded) await loadMe()
  if (to.meta.public) return true
  if (!session.me) return { name: 'login', query: { next: to.fullPath } }
  return true
})

setUnauthenticatedHandler(() => {
  const here = router.currentRoute.value
  if (here.matched.length && !here.meta.public) {
    session.me = null
    void router.push({ name: 'login', query: { next: here.fullPath } })
  }
})
