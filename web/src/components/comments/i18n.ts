// Messages of the comment threads (评论), merged into the app's under the key 'comments'. An @ in
// a message is written {'@'} (vue-i18n reads a bare @ as a linked message).
export const zh = {
  title: '评论', count: '{n} 条评论', empty: '还没有评论，来说两句吧', placeholder: "写评论，输入 {'@'} 提及同事…",
  replyPlaceholder: '回复 {who}…', send: '发表评论', reply: '回复', replyTo: '回复 {who}', cancel: '取消', delete: '删除',
  deleted: '该评论已删除', deleteConfirm: '删除后评论内容不再显示，确定删除吗？', deletedDone: '评论已删除',
  posted: '评论已发表', notified: '已通知 {who}', mention: '提及某人', people: '选择要提及的人', noPeople: '没有找到这个人',
  searching: '搜索中…', mentioning: '将通知：', anchorProject: '项目', anchorStep: '审批环节 {n}', anchorTask: '任务',
  open: '评论', openN: '评论（{n}）', threadOf: '{what} 的评论', loadMore: '加载更多评论', highlight: '来自通知的评论',
}

export const en: typeof zh = {
  title: 'Comments', count: '{n} comments', empty: 'No comments yet', placeholder: "Write a comment; type {'@'} to mention someone…",
  replyPlaceholder: 'Reply to {who}…', send: 'Post', reply: 'Reply', replyTo: 'Reply to {who}', cancel: 'Cancel', delete: 'Delete',
  deleted: 'This comment was deleted', deleteConfirm: 'Delete this comment?', deletedDone: 'Comment deleted',
  posted: 'Comment posted', notified: 'Notified {who}', mention: 'Mention someone', people: 'People to mention', noPeople: 'Nobody found',
  searching: 'Searching…', mentioning: 'Will notify: ', anchorProject: 'Project', anchorStep: 'Approval step {n}', anchorTask: 'Task',
  open: 'Comments', openN: 'Comments ({n})', threadOf: 'Comments on {what}', loadMore: 'More comments', highlight: 'The comment from your notification',
}
