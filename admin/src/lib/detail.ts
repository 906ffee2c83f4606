// Opening an execution from a list: a plain click shows the detail in a modal over the list and
// puts /historial/{id} in the address bar (shallow routing), so Back closes it and the URL can be
// shared; a modified click (new tab) or no JavaScript follows the link to the full page.
import { pushState } from '$app/navigation'

export function openDetail(event: MouseEvent, id: number) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return
  event.preventDefault()
  void pushState(`/historial/${id}`, { ejecucion: id })
}
