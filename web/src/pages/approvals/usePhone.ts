// True at phone width (the same 768px break as styles.css), following window resizes.
import { onBeforeUnmount, ref, type Ref } from 'vue'

export function usePhone(): Ref<boolean> {
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(max-width: 768px)') : null
  const phone = ref(mq?.matches ?? false)
  const update = (e: MediaQueryListEvent): void => {
    phone.value = e.matches
  }
  mq?.addEventListener('change', update)
  onBeforeUnmount(() => mq?.removeEventListener('change', update))
  return phone
}
