"""The tablet's copy of the s136 rules (app/static/tablet/s136-rules.js) in a real headless
Chromium, served by a real server, run on the same table of cases as the Python package
(tests/test_s136_rules.py): the two copies cannot drift apart unnoticed."""

import json
from pathlib import Path

import pytest

from tests.browser import browser, needs_chromium

CASES = json.loads((Path(__file__).parent / "data" / "s136_rule_cases.json").read_text("utf-8"))

RUN_CASES = """
async (cases) => {
  const rules = await import('/static/tablet/s136-rules.js');
  return cases.map((c) => {
    if (c.facts) {
      const verdict = rules.checkDetention(c.facts);
      return {
        name: c.name,
        refusals: verdict.refusals.map(({ rule, code, field }) => ({ rule, code, field })),
        messages: verdict.refusals.map((r) => r.message),
        flags: verdict.flags,
      };
    }
    const ranked = rules.rankPlaces(c.places, c.person);
    return {
      name: c.name,
      ranked: ranked.map((r) => ({
        id: r.place.id,
        suitable: r.suitable,
        reasons: r.reasons.map((reason) => reason.code),
        distance_km: r.distance_km,
      })),
    };
  });
}
"""


@pytest.fixture
async def results(start_server) -> dict[str, dict]:
    server = await start_server()
    async with browser() as chromium:
        page = await chromium.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Any page of the service: the module is imported from the same origin, as the tablet does.
        await page.goto(f"{server.url}/tablet")
        got = await page.evaluate(RUN_CASES, CASES)
        assert errors == []
    return {r["name"]: r for r in got}


@needs_chromium
async def test_the_tablet_rules_decide_every_case_as_the_server(results: dict[str, dict]) -> None:
    assert len(results) == len(CASES)
    mismatches = []
    for case in CASES:
        got = results[case["name"]]
        if "facts" in case:
            expected = case["expect"]
            if got["refusals"] != expected["refusals"] or got["flags"] != expected["flags"]:
                mismatches.append((case["name"], got, expected))
            assert all(got["messages"])
        else:
            expected_ranked = case["expect"]["ranked"]
            shape = [{k: r[k] for k in ("id", "suitable", "reasons")} for r in got["ranked"]]
            if shape != [{k: r[k] for k in ("id", "suitable", "reasons")} for r in expected_ranked]:
                mismatches.append((case["name"], got["ranked"], expected_ranked))
                continue
            for mine, theirs in zip(got["ranked"], expected_ranked, strict=True):
                if (mine["distance_km"] is None) != (theirs["distance_km"] is None) or (
                    theirs["distance_km"] is not None
                    and abs(mine["distance_km"] - theirs["distance_km"]) > 0.01
                ):
                    mismatches.append((case["name"], mine, theirs))
    assert mismatches == []
