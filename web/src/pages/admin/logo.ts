// A logo file as the branding setting takes it: PNG or JPEG by its first bytes (never its name or
// the browser's guess), at most 256 KB, sent as base64 (the server checks it all again).
export const MAX_LOGO_BYTES = 256 * 1024

export function imageKind(head: Uint8Array): 'png' | 'jpeg' | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
  if (png.every((b, i) => head[i] === b)) return 'png'
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg'
  return null
}

export function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

/** The file's bytes as base64 with its kind, or why it is refused ('tooBig' | 'badType'). */
export async function readLogo(file: Blob): Promise<{ kind: 'png' | 'jpeg'; base64: string } | 'tooBig' | 'badType'> {
  if (file.size > MAX_LOGO_BYTES) return 'tooBig'
  const bytes = new Uint8Array(await file.arrayBuffer())
  const kind = imageKind(bytes)
  return kind ? { kind, base64: toBase64(bytes) } : 'badType'
}
