// "+N more": a list in a fixed-size box must say how many of its rows are out of view, so
// nothing is ever silently cut off.

/** How many of `rows` (inside the scrolling `box`) are not wholly in view, above and below. */
export function outOfView(box, rows) {
  const view = box.getBoundingClientRect();
  let above = 0;
  let below = 0;
  for (const row of rows) {
    const r = row.getBoundingClientRect();
    if (r.height === 0) continue; // not laid out (hidden screen)
    if (r.top < view.top - 1) above += 1;
    else if (r.bottom > view.bottom + 1) below += 1;
  }
  return { above, below, total: above + below };
}

/** Text for the "+N more" line: '' when everything is in view. */
export function moreText({ above, below, total }) {
  if (!total) return '';
  const where = above && below ? 'above and below' : above ? 'above' : 'below';
  return `+${total} more ${where} (scroll to see)`;
}
