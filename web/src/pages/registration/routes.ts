// Routes of the registration area (registered in src/router.ts before the projects area, so
// /projects/new is matched here and not as /projects/:id).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: '/projects/new', name: 'registration-new', component: () => import('./RegistrationPage.vue'), meta: { title: 'registration.newTitle' } },
  { path: '/projects/:id/edit', name: 'registration-edit', component: () => import('./RegistrationPage.vue'), meta: { title: 'registration.editTitle' } },
]
