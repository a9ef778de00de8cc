// The s136 rules on the tablet: the same law as the server's pure package (app/s136), so a crew
// sees a refusal before sending, and the places of safety in the order to offer them for this
// person. Pure: no DOM, no clock (`now` is one of the facts). Both copies are held to one table
// of cases (tests/data/s136_rule_cases.json); change them together.

export const MAX_SKEW_MS = 2 * 60 * 1000;
export const ADULT_AGE = 18;
export const TIMES = 'TIMES';
export const POLICE_STATION_REVIEW = 'police_station_review';
export const UNDER_18_UNSUITABLE_PLACE = 'under_18_unsuitable_place';
export const EARTH_RADIUS_KM = 6371.0;

const given = (text) => typeof text === 'string' && text.trim() !== '';
const ms = (iso) => {
  const value = Date.parse(iso);
  if (Number.isNaN(value)) throw new Error(`not a time: ${iso}`);
  return value;
};
const ahead = (at, now) => ms(at) - ms(now) > MAX_SKEW_MS;
const refusal = (rule, code, field, message) => ({ rule, code, field, message });
const inFuture = (field) => refusal(TIMES, 'time_in_future', field,
  'That time is in the future; record a time as it happened.');

/**
 * Every refusal of a proposed detention, in the server's fixed order, and the flags to set.
 * `facts`: {now, power, detained_at, found_in, warrant: {issued_by, issued_at} | null,
 * consulted: {who, at} | null, not_consulted_reason, age, believed_adult_reason,
 * place: {type, accepts_under_18} | null, police_station_reason, authorised_by,
 * under_18_place_reason, vehicle, ambulance_requested, police_vehicle_reason}.
 */
export function checkDetention(facts) {
  const refusals = [];
  if (ahead(facts.detained_at, facts.now)) refusals.push(inFuture('detained_at'));
  refusals.push(...whereFound(facts), ...warrant(facts), ...consultation(facts));
  const place = checkPlace(facts);
  refusals.push(...place.refusals, ...conveyance(facts));
  return { refusals, flags: place.flags };
}

/** S3, S4 and S5 for a person (`age`) taken to `place`, with the exceptional-place fields. */
export function checkPlace(choice) {
  const { place } = choice;
  const age = choice.age ?? null;
  const refusals = [];
  const flags = [];
  if (!place) return { refusals, flags };
  const child = age !== null && age < ADULT_AGE;
  if (place.type === 'police_station') {
    if (child) {
      refusals.push(refusal('S3', 'police_station_under_18', 'place_of_safety_id',
        'A police station may never be used as a place of safety for anyone under 18 (S3).'));
      return { refusals, flags };
    }
    if (age === null && !given(choice.believed_adult_reason)) {
      refusals.push(refusal('S3', 'age_unknown_at_police_station', 'believed_adult_reason',
        "The person's age is not known: a police station needs an explicit belief that they are 18 or over, and why (S3)."));
    }
    for (const [field, what] of [['police_station_reason', 'the reason'], ['authorised_by', 'the authorising inspector']]) {
      if (!given(choice[field])) {
        refusals.push(refusal('S4', 'police_station_needs_authority', field,
          `A police station needs ${what}: only in exceptional circumstances, authorised by an inspector or above (S4).`));
      }
    }
    flags.push(POLICE_STATION_REVIEW);
  } else if (child && !place.accepts_under_18) {
    if (!given(choice.under_18_place_reason)) {
      refusals.push(refusal('S5', 'under_18_place_reason_required', 'under_18_place_reason',
        'This place does not take under-18s: say why the person is taken there; it will be flagged for review (S5).'));
    }
    flags.push(UNDER_18_UNSUITABLE_PLACE);
  }
  return { refusals, flags };
}

function whereFound(facts) {
  if ((facts.power ?? 's136') === 's136' && facts.found_in === 'private_dwelling') {
    return [refusal('S9', 's136_in_private_dwelling', 'found_in',
      's136 cannot be used in a private dwelling; use s135 with a warrant (S9).')];
  }
  return [];
}

function warrant(facts) {
  const w = facts.warrant ?? null;
  if ((facts.power ?? 's136') !== 's135') {
    return w ? [refusal('S9', 'warrant_only_for_s135', 'warrant',
      'A warrant is recorded only for s135: choose s135, or leave it out (S9).')] : [];
  }
  if (!w || !given(w.issued_by) || !w.issued_at) {
    return [refusal('S9', 'warrant_required', 'warrant', 's135 needs the warrant: who issued it and when (S9).')];
  }
  if (ahead(w.issued_at, facts.now)) return [inFuture('warrant.issued_at')];
  if (ms(w.issued_at) > ms(facts.detained_at)) {
    return [refusal('S9', 'warrant_after_detention', 'warrant.issued_at',
      'The warrant must have been issued before the detention (S9).')];
  }
  return [];
}

function consultation(facts) {
  const c = facts.consulted ?? null;
  if (!c || c.who == null) {
    if (given(facts.not_consulted_reason)) return [];
    return [refusal('S1', 'consultation_required', 'consulted',
      'Record who was consulted before detaining, or why it was not practicable (S1).')];
  }
  if (!c.at) return [refusal('S1', 'consultation_required', 'consulted.at', 'Say when the consultation happened (S1).')];
  if (ahead(c.at, facts.now)) return [inFuture('consulted.at')];
  if (ms(c.at) > ms(facts.detained_at)) {
    return [refusal('S1', 'consultation_after_detention', 'consulted.at',
      'The consultation must come before the detention (S1).')];
  }
  return [];
}

function conveyance(facts) {
  if (facts.vehicle !== 'police_vehicle') return [];
  const refusals = [];
  if (facts.ambulance_requested == null) {
    refusals.push(refusal('S6', 'ambulance_request_required', 'ambulance_requested',
      'Say whether an ambulance was requested (S6).'));
  }
  if (!given(facts.police_vehicle_reason)) {
    refusals.push(refusal('S6', 'police_vehicle_reason_required', 'police_vehicle_reason',
      'Say why a police vehicle was used rather than an ambulance (S6).'));
  }
  return refusals;
}

/** Great-circle distance in km (the server computes it the same way). */
export function haversineKm(lat1, lon1, lat2, lon2) {
  const rad = (deg) => (deg * Math.PI) / 180;
  const p1 = rad(lat1);
  const p2 = rad(lat2);
  const dp = p2 - p1;
  const dl = rad(lon2 - lon1);
  const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Why a place is not suitable for a person of this age (none when it is). */
export function unsuitableReasons(place, age) {
  if (age == null || age >= ADULT_AGE) return [];
  if (place.type === 'police_station') {
    return [{ rule: 'S3', code: 'police_station_under_18', message: 'A police station may never be used for anyone under 18.' }];
  }
  if (!place.accepts_under_18) {
    return [{ rule: 'S5', code: 'does_not_accept_under_18', message: 'Does not take under-18s.' }];
  }
  return [];
}

const known = (v) => v !== null && v !== undefined;

/**
 * Every place, in the order to offer it for this person (`{age, lat, lon}`, the position being
 * the unit's; each may be null): suitable places with beds first, nearest first, then those
 * with no beds, police stations last of the suitable; then the unsuitable ones with their
 * reasons (shown greyed, never hidden). → [{place, suitable, reasons, distance_km}]
 */
export function rankPlaces(places, person = {}) {
  const { age = null, lat = null, lon = null } = person;
  const ranked = places.map((place) => {
    const reasons = unsuitableReasons(place, age);
    const distance = [lat, lon, place.lat, place.lon].every(known)
      ? haversineKm(lat, lon, place.lat, place.lon) : null;
    return { place, suitable: reasons.length === 0, reasons, distance_km: distance };
  });
  return ranked.sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
}

function orderKey(r) {
  const nearest = [r.distance_km === null ? 1 : 0, r.distance_km ?? 0];
  const tie = [String(r.place.name ?? ''), r.place.id ?? 0];
  if (!r.suitable) return [1, 0, 0, ...nearest, ...tie];
  const police = r.place.type === 'police_station' ? 1 : 0;
  const noBeds = (r.place.available_beds ?? 0) > 0 ? 0 : 1;
  return [0, police, noBeds, ...nearest, ...tie];
}

function compareKeys(a, b) {
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}
