// A unit's offers and jobs as the tablet and nurse desk keep them, from REST rows and events.

export const ACTIVE = ['offered', 'accepted', 'en_route', 'on_scene'];
export const STATUS_RANK = { offered: 0, accepted: 1, en_route: 2, on_scene: 3, declined: 9, expired: 9, cancelled: 9, withdrawn: 9, cleared: 9 };

/** Merge a REST row or event data into `map` (id → assignment): statuses only move forward
 *  (a late REST answer cannot undo an event), and one that is no longer active leaves. */
export function upsertActive(map, row) {
  const id = row.id ?? row.assignment_id;
  const old = map.get(id);
  const next = { ...(old || {}), ...row, id, seenAt: Date.now() };
  delete next.incident;
  delete next.assignment_id;
  if (old && (STATUS_RANK[old.status] ?? 0) > (STATUS_RANK[row.status] ?? 0)) next.status = old.status;
  if (ACTIVE.includes(next.status)) map.set(id, next);
  else map.delete(id);
  return next;
}
