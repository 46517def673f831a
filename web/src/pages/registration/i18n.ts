// Messages of the registration area, merged into the app's under the key 'registration'.
export const zh = {}
export const en: typeof zh = {}
