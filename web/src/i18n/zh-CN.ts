// 中文（默认）。Keys are grouped by page; add a page's keys in its own block, the same in en.ts.
export default {
  app: { name: '报备', title: '报备 · 客户项目报备与交付', skip: '跳到主要内容', language: 'English', signOut: '退出登录', menu: '菜单', loading: '加载中…', empty: '暂无数据', retry: '重试', notFound: '页面不存在', backHome: '返回工作台' },
  nav: { lessons: '经验库', home: '工作台', newProject: '发起报备', projects: '我的报备', approvals: '审批', tasks: '我的任务', dashboard: '数据看板', notifications: '通知', settings: '系统设置', more: '更多' },
  status: { draft: '草稿', pending_approval: '审批中', active: '执行中', closed: '已关闭', returned: '已退回', rejected: '已驳回', cancelled: '已撤回', waiting: '未开始', pending: '待审批', approved: '已同意', skipped: '已跳过', todo: '待开始', in_progress: '进行中', done: '已完成', blocked: '受阻', accepted: '验收通过', withdrawn: '已撤回' },
  login: { title: '登录报备', login: '账号', loginPlaceholder: '邮箱、手机号或用户 ID', password: '密码', totp: '两步验证码', totpHint: '请输入身份验证器中的 6 位数字', submit: '登录', or: '或使用以下方式登录', forgot: '忘记密码？', ldapTitle: '使用{name}登录', username: '用户名', noMethods: '管理员尚未开放任何登录方式', back: '返回' },
  people: { search: '搜索姓名、拼音或账号', department: '选择部门' },
  common: { save: '保存', cancel: '取消', confirm: '确定', search: '搜索', reset: '重置', export: '导出', submit: '提交', edit: '编辑', delete: '删除', close: '关闭', view: '查看', more: '更多', refresh: '刷新', yes: '是', no: '否', all: '全部', saved: '已保存', done: '完成', actions: '操作', comment: '意见', loadMore: '加载更多', required: '必填', optional: '选填', amount: '金额', customer: '客户', owner: '负责人', status: '状态', code: '编号', name: '名称', createdAt: '创建时间', dueAt: '截止', yuan: '元' },
}
