// Messages of the projects area, merged into the app's under the key 'projects'.
export const zh = {}
export const en: typeof zh = {}
