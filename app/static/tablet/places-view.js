// Places of safety as the crew chooses them: in the order of s136-rules.js's rankPlaces for this
// person and this unit's position (suitable with beds first, nearest first, police stations
// last; unsuitable ones after them, greyed, with the rule and the reason, never hidden), in a
// select and as tappable cards.
import { rankPlaces } from './s136-rules.js';
import { el } from '/static/common/dom.js';
import { humanize } from '/static/common/live.js';

export const PLACE_TYPES = {
  health_based_place_of_safety: 'Health-based place of safety', emergency_department: 'Emergency department',
  police_station: 'Police station', private_home: 'Private home', other: 'Other',
};

/** Every place, ranked for `person` ({age, lat, lon}; each may be null). */
export function rankFor(places, person) {
  return rankPlaces([...places], person);
}

export const distanceText = (km) => (km == null ? null : km < 10 ? `${km.toFixed(1)} km` : `${Math.round(km)} km`);
const bedsText = (p) => (p.available_beds == null ? 'beds not known'
  : `${p.available_beds} bed${p.available_beds === 1 ? '' : 's'} free`);
const reasonText = (entry) => entry.reasons.map((r) => `${r.rule}: ${r.message}`).join(' ');

/** One line for a select option: name, then why not (if unsuitable), type, beds, under-18s, distance, exclusions. */
export function optionLabel(entry, currentId) {
  const p = entry.place;
  const parts = [p.name];
  if (String(p.id) === String(currentId)) parts.push('here now');
  if (!entry.suitable) parts.push(`✖ not suitable: ${reasonText(entry)}`);
  parts.push(PLACE_TYPES[p.type] || humanize(p.type), bedsText(p), p.accepts_under_18 ? 'takes under-18s' : 'no under-18s');
  const distance = distanceText(entry.distance_km);
  if (distance) parts.push(distance);
  if (p.exclusions) parts.push(`excludes: ${p.exclusions}`);
  return parts.join(' · ');
}

const signatureOf = (ranked, extra) => JSON.stringify([
  ranked.map((r) => [r.place.id, r.place.name, r.place.type, r.place.available_beds, r.place.accepts_under_18,
    r.place.exclusions, r.suitable, r.reasons.map((x) => x.code), r.distance_km == null ? null : Math.round(r.distance_km * 10)]),
  extra,
]);

/**
 * Fill a select with the ranked places (rebuilt only when something shown changed, so an open
 * list is not disturbed). `currentId`: the place the person is at now (shown, not choosable).
 */
export function renderPlaceSelect(select, ranked, selected, { emptyLabel = 'Choose…', currentId = null } = {}) {
  const signature = signatureOf(ranked, [emptyLabel, currentId]);
  if (select.dataset.signature !== signature) {
    const first = el('option', null, emptyLabel);
    first.value = '';
    const options = [first, ...ranked.map((entry) => {
      const option = el('option', entry.suitable ? null : 'unsuitable', optionLabel(entry, currentId));
      option.value = String(entry.place.id);
      option.dataset.beds = String(entry.place.available_beds ?? '');
      option.dataset.suitable = String(entry.suitable);
      if (String(entry.place.id) === String(currentId)) option.disabled = true;
      return option;
    })];
    select.replaceChildren(...options);
    select.dataset.signature = signature;
  }
  select.value = selected ? String(selected) : '';
}

/** The ranked places as cards with beds, distance, exclusions and, when unsuitable, why. */
export function renderPlaceCards(list, ranked, selected, { onPick, currentId = null } = {}) {
  const signature = signatureOf(ranked, [selected == null ? '' : String(selected), currentId]);
  if (list.dataset.signature === signature) return; // unchanged: keep the buttons (and focus)
  list.dataset.signature = signature;
  const items = ranked.map((entry) => {
    const p = entry.place;
    const here = String(p.id) === String(currentId);
    const li = el('li');
    const b = el('button', `place-option${entry.suitable ? '' : ' unsuitable'}`);
    b.type = 'button';
    b.dataset.testid = 'place-option';
    b.dataset.placeId = String(p.id);
    b.dataset.suitable = String(entry.suitable);
    if (!entry.suitable) b.dataset.rule = entry.reasons.map((r) => r.rule).join(' ');
    b.setAttribute('aria-pressed', String(p.id) === String(selected) ? 'true' : 'false');
    b.disabled = here;
    const beds = el('span', `beds${p.available_beds === 0 ? ' full' : ''}`, p.available_beds == null ? '?' : String(p.available_beds));
    beds.title = 'Beds free';
    const text = el('span', 'place-text');
    const name = el('span', 'place-name', p.name);
    const distance = distanceText(entry.distance_km);
    if (distance) name.append(el('span', 'place-distance', distance));
    if (here) name.append(el('span', 'place-here', 'here now'));
    const meta = [PLACE_TYPES[p.type] || humanize(p.type), p.available_beds === 0 ? 'FULL' : bedsText(p),
      p.accepts_under_18 ? 'takes under-18s' : 'no under-18s'];
    text.append(name, el('span', 'place-meta', meta.join(' · ')));
    if (!entry.suitable) {
      for (const r of entry.reasons) {
        const why = el('span', 'place-why');
        why.dataset.testid = 'place-why';
        why.append(el('span', 'rule-id', r.rule), document.createTextNode(` Not suitable: ${r.message}`));
        text.append(why);
      }
    }
    if (p.exclusions) text.append(el('span', 'place-excl', `Excludes: ${p.exclusions}`));
    b.append(beds, text);
    b.addEventListener('click', () => onPick?.(p.id));
    li.append(b);
    return li;
  });
  if (!items.length) items.push(el('li', 'muted', 'No places of safety known yet.'));
  list.replaceChildren(...items);
}
