// File names of uploaded attachments: the API gives the name only in the upload's answer (and
// when downloading), so names are remembered in localStorage by id; a saved draft reopened later
// shows "附件 1" for an id uploaded elsewhere rather than the bare sha256 id.
const KEY = 'bb_attachment_names'
const MAX = 200

function load(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, string>
  } catch {
    return {}
  }
}

export function rememberAttachment(id: string, name: string): void {
  try {
    const all = load()
    all[id] = name
    const keys = Object.keys(all)
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX))) delete all[k]
    localStorage.setItem(KEY, JSON.stringify(all))
  } catch {
    // storage full or unavailable: names fall back to "附件 N"
  }
}

export function knownAttachmentName(id: string): string {
  return load()[id] ?? ''
}
