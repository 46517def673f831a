// The navigation: one list for the desktop sidebar and the phone tab bar (phones show the
// first four plus 更多). Pages register here when they land.
export interface NavItem {
  to: string
  label: string // i18n key
  icon: string // Element Plus icon name
  phone?: boolean // in the phone tab bar
  badge?: 'todos' | 'unread'
  admin?: boolean // shown to admins only
}

export const NAV: NavItem[] = [
  { to: '/', label: 'nav.home', icon: 'HomeFilled', phone: true },
  { to: '/projects/new', label: 'nav.newProject', icon: 'EditPen', phone: true },
  { to: '/projects', label: 'nav.projects', icon: 'Document' },
  { to: '/approvals', label: 'nav.approvals', icon: 'Stamp', phone: true, badge: 'todos' },
  { to: '/my-tasks', label: 'nav.tasks', icon: 'List' },
  { to: '/dashboard', label: 'nav.dashboard', icon: 'DataAnalysis' },
  { to: '/lessons', label: 'nav.lessons', icon: 'Reading' },
  { to: '/notifications', label: 'nav.notifications', icon: 'Bell', phone: true, badge: 'unread' },
  { to: '/admin/settings', label: 'nav.settings', icon: 'Setting', admin: true },
]
