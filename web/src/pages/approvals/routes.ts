// Routes of the approvals area (registered in src/router.ts).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: '/approvals', name: 'approvals', component: () => import('./ApprovalsPage.vue'), meta: { title: 'nav.approvals' } },
  // A project's approval without a task of the viewer's (copied to them, or their own submission).
  { path: '/approvals/p/:projectId', name: 'approval-project', component: () => import('./TaskPage.vue'), meta: { title: 'nav.approvals' } },
  // The task page: the in-app target of an approval request.
  { path: '/approvals/:taskId', name: 'approval-task', component: () => import('./TaskPage.vue'), meta: { title: 'nav.approvals' } },
]
