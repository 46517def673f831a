// Messages of the approvals area, merged into the app's under the key 'approvals'.
export const zh = {}
export const en: typeof zh = {}
