// Opening an execution from a list: a plain click shows the detail in a modal over the list and
// puts /historial/{id} in the address bar (shallow routing), so Back closes it and the URL can be
// shared; a modified click (new tab) or no JavaScript follows the link to the full page.
import { goto } from '$app/navigation'
import { resumeDroppedReload } from './live.svelte.ts'

export function openDetail(event: MouseEvent | KeyboardEvent, id: number) {
  const primary = !('button' in event) || event.button === 0
  if (event.defaultPrevented || !primary || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  event.preventDefault()
  // A shallow goto, not the deprecated pushState: pushState is no navigation, so a live reload of
  // the list in flight landed afterwards restoring the page state it began with and closed the
  // modal. A navigation drops that reload instead; it is asked for again.
  void goto(`/historial/${id}`, { state: { ejecucion: id }, shallow: true }).then(resumeDroppedReload)
}

/**
 * A history row opens its detail (plan §4.1: "click en fila abre modal de detalle"), by click or
 * by Enter on the focused row. Clicks on the row's own link or button, or on selected text, keep
 * their own meaning.
 */
export function openFromRow(
  event: MouseEvent | KeyboardEvent,
  id: number,
  open: (event: MouseEvent | KeyboardEvent, id: number) => void = openDetail,
) {
  if (event instanceof KeyboardEvent && (event.key !== 'Enter' || event.target !== event.currentTarget)) return
  const target = event.target as Element | null
  if (event instanceof MouseEvent && (target?.closest('a, button') || window.getSelection()?.toString())) return
  open(event, id)
}
