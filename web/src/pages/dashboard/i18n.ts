// Messages of the dashboard area, merged into the app's under the key 'dashboard'.
export const zh = {}
export const en: typeof zh = {}
