// Whether the viewport is phone-sized (charts drop labels and rotate axes there).
import { onBeforeUnmount, ref, type Ref } from 'vue'

export function useCompact(): Ref<boolean> {
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(max-width: 768px)') : null
  const compact = ref(!!mq?.matches)
  const on = (e: MediaQueryListEvent) => (compact.value = e.matches)
  mq?.addEventListener('change', on)
  onBeforeUnmount(() => mq?.removeEventListener('change', on))
  return compact
}
