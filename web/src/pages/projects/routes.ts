// Routes of the projects area (registered in src/router.ts). /projects/new and /projects/:id/edit
// belong to the registration area.
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = [
  { path: '/projects', name: 'projects', component: () => import('./ProjectListPage.vue'), meta: { title: 'projects.list.title' } },
  { path: '/projects/:id([0-9a-zA-Z_-]{6,})', name: 'project', component: () => import('./ProjectPage.vue'), meta: { title: 'projects.page.title' } },
  { path: '/lessons', name: 'lessons', component: () => import('./LessonsPage.vue'), meta: { title: 'projects.lessons.title' } },
]
