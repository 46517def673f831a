// Messages of the work area, merged into the app's under the key 'work'.
export const zh = {}
export const en: typeof zh = {}
