// True at phone widths (the shell's breakpoint, 768px), following resizes.
import { onBeforeUnmount, ref, type Ref } from 'vue'

export function usePhone(): Ref<boolean> {
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(max-width: 768px)') : null
  const phone = ref(mq?.matches ?? false)
  const on = (e: MediaQueryListEvent) => (phone.value = e.matches)
  mq?.addEventListener('change', on)
  onBeforeUnmount(() => mq?.removeEventListener('change', on))
  return phone
}
