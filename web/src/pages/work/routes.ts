// Routes of the work area (registered in src/router.ts).
import type { RouteRecordRaw } from 'vue-router'

export const routes: RouteRecordRaw[] = []
