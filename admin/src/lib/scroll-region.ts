// A horizontally scrolling table must be reachable by keyboard (WCAG 2.1.1; axe
// scrollable-region-focusable): while its content overflows, the region takes a tab stop so the
// arrow keys scroll it; when everything fits it takes none, so the tab order stays short.
// Used as `use:scrollRegion` on `.table-scroll` containers with role="region" and a label.
export function scrollRegion(node: HTMLElement) {
  const update = () => {
    if (node.scrollWidth > node.clientWidth + 1) node.tabIndex = 0
    else node.removeAttribute('tabindex')
  }
  const observer = new ResizeObserver(update)
  observer.observe(node)
  for (const child of node.children) observer.observe(child)
  update()
  return { destroy: () => observer.disconnect() }
}
