"""The call handler's intake screen in a real headless Chromium against a real server: the
decision preview follows the answers, a lost answer and a double click still record one incident,
dispatch shows live (offered → accepted; declined → escalated), an override is kept beside
the rules' decision and changes the caller sentence, and My open incidents shows what each
incident needs next with the desk's one action (hand off, close)."""

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, Route, expect

from tests.browser import SCREENSHOTS, browser, needs_chromium, sign_in
from tests.live import add_user, crews_online


def paths(prefix: str, names: str) -> list[str]:
    return [f"{prefix}.{name}" for name in names.split()]


# Every control of the form, in tab order: the groups as a handler asks them, then submit.
TAB_ORDER = [
    *paths("location", "description kind lat lon"),
    *paths("person", "description age gender language communication_needs name"),
    *paths("caller", "name role phone"),
    "source",
    "category",
    "reported_at",
    "circumstances",
    *paths("risk", "crime_in_progress crime_committed weapon violence_to_others"),
    *paths("risk", "immediate_risk_to_life serious_harm self_harm suicidal intoxicated"),
    *paths("risk", "medical_emergency"),
    *paths("context", "known_to_mh_services crisis_plan liable_to_detention_under_mha"),
    *paths("context", "health_setting_checks_done caller_is_health_professional"),
    "submit",
    "new-call",
]


async def answer(page: Page, question: str, key: str) -> None:
    """Answer a Yes/No/Not asked question from the keyboard, as a handler would."""
    await page.locator(f'input[name="{question}"]:checked').focus()
    await page.keyboard.press(key)


async def open_intake(
    chromium, server, username: str, *, own_clock: bool = False
) -> tuple[Page, list[str]]:
    """The intake screen at 1600×900, signed in and live; and the page's JavaScript errors.
    `own_clock`: the page's clock runs from now but can be moved on (page.clock)."""
    page = await chromium.new_page(
        viewport={"width": 1600, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    if own_clock:
        await page.clock.install()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    await page.goto(f"{server.url}/intake")
    await sign_in(page, username)
    await expect(page.get_by_test_id("connection-status")).to_have_text("live", timeout=10_000)
    return page, page_errors


async def take_call(
    page: Page, *, source: str, category: str, yes: tuple[str, ...] = (), outcome: str
) -> int:
    """Fill in and submit a call (New call first); returns the new incident's id."""
    await page.get_by_test_id("new-call").click()
    await expect(page.get_by_test_id("preview-outcome")).to_have_attribute("data-outcome", "")
    await page.locator('[name="location.description"]').focus()
    await page.keyboard.type("Sneinton Market")
    await page.select_option('[name="location.kind"]', "public_place")
    await page.select_option('[name="source"]', source)
    await page.select_option('[name="category"]', category)
    for question in yes:
        await answer(page, question, "y")
    await expect(page.get_by_test_id("preview-outcome")).to_have_attribute("data-outcome", outcome)
    result = page.get_by_test_id("incident-result")
    shown = await result.get_attribute("data-incident-id")
    await page.keyboard.press("Control+Enter")
    await expect(result).to_be_visible()
    await expect(result).not_to_have_attribute("data-incident-id", shown or "")
    return int(await result.get_attribute("data-incident-id"))


async def tab_to(page: Page, test_id: str, limit: int = 40) -> None:
    """Press Tab until the control with this test id has focus (the keyboard's way there)."""
    for _ in range(limit):
        if await page.evaluate("document.activeElement?.dataset?.testid") == test_id:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {test_id}")


def london_hhmm(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")


async def no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


@needs_chromium
async def test_handler_takes_a_call_and_watches_dispatch_live(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler", username="handler-intake")
    crew1 = await add_user(db, "crew", unit="TC1", username="crew-tc1")
    crew2 = await add_user(db, "crew", unit="TC2")
    async with httpx.AsyncClient(base_url=server.url) as client:
        # TC1 is nearer the incidents below, so it is offered first.
        for callsign, lat, lon in (("TC1", 52.95, -1.15), ("TC2", 53.40, -1.60)):
            r = await client.post(
                "/api/v1/units",
                json={
                    "callsign": callsign,
                    "kind": "triage_car",
                    "status": "available",
                    "lat": lat,
                    "lon": lon,
                    "crew": [],
                },
                headers=supervisor["headers"],
            )
            assert r.status_code == 201, r.text

        # Both crews are signed in on their tablets (offers go only to connected crews).
        crews = {"TC1": crew1, "TC2": crew2}
        async with crews_online(server, crews), browser() as chromium:
            page = await chromium.new_page(
                viewport={"width": 1920, "height": 1080},
                locale="en-GB",
                timezone_id="Europe/London",
            )
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(f"{server.url}/intake")

            # Only call handlers may use this screen.
            await sign_in(page, "crew-tc1")
            await expect(page.get_by_test_id("login-error")).to_contain_text("for call handlers")
            await sign_in(page, "handler-intake")
            await expect(page.get_by_test_id("connection-status")).to_have_text(
                "live", timeout=10_000
            )

            outcome = page.get_by_test_id("preview-outcome")
            police = page.get_by_test_id("preview-police")
            reasons = page.get_by_test_id("preview-reasons")
            unanswered = page.get_by_test_id("preview-unanswered")
            hint = page.get_by_test_id("preview-hint")

            # Tab goes through the groups in the order a handler asks them.
            await page.locator('[name="location.description"]').focus()
            visited: list[str] = []
            for _ in range(80):  # the date-time field has a tab stop per part: count it once
                name = await page.evaluate("(e => e.name || e.id)(document.activeElement)")
                if not visited or visited[-1] != name:
                    visited.append(name)
                if name == TAB_ORDER[-1]:
                    break
                await page.keyboard.press("Tab")
            assert visited == TAB_ORDER

            # Where, typed; Enter moves on to the next field rather than submitting.
            await page.locator('[name="location.description"]').focus()
            await page.keyboard.type("Trent Bridge, north side")
            await page.keyboard.press("Enter")
            assert await page.evaluate("document.activeElement.name") == "location.kind"
            await expect(hint).to_contain_text("Complete where/what to see the decision")
            visible_errors = page.get_by_test_id("field-error").locator("visible=true")
            await expect(visible_errors).to_have_count(0)
            await expect(outcome).to_have_attribute("data-outcome", "")
            police_box = await page.locator("#police").bounding_box()
            form_box = await page.get_by_test_id("intake-form").bounding_box()

            await page.select_option('[name="location.kind"]', "public_place")
            await page.fill('[name="location.lat"]', "52.94")
            await page.fill('[name="location.lon"]', "-1.14")
            await page.fill('[name="person.description"]', "man, 30s, red coat")
            await page.fill('[name="person.age"]', "34")
            await page.select_option('[name="source"]', "police_999")
            await page.select_option('[name="category"]', "mental_health_crisis")
            await page.fill('[name="circumstances"]', "Caller sees a man on the railings.")
            await answer(page, "risk.suicidal", "y")
            # The shortcut answered and moved on to the next question.
            assert await page.evaluate("document.activeElement.name") == "risk.intoxicated"
            await expect(page.get_by_test_id("risk.suicidal-yes")).to_be_checked()
            await expect(outcome).to_have_attribute("data-outcome", "triage_car")
            await expect(police).to_have_text("Police do not attend")
            await expect(reasons.locator('li[data-rule="T9"]')).to_have_count(1)

            await answer(page, "risk.immediate_risk_to_life", "y")
            await answer(page, "risk.weapon", "n")
            await expect(outcome).to_have_attribute("data-outcome", "police_and_triage")
            await expect(police).to_have_text("Police attend")
            await expect(reasons.locator('li[data-rule="T2"]')).to_contain_text(
                "Real and immediate risk to life"
            )
            # Not asked is listed; answered questions (yes or no) are not.
            await expect(unanswered).to_contain_text("Not asked: crime in progress")
            for answered in ("weapon", "suicidal", "risk to life"):
                await expect(unanswered).not_to_contain_text(answered)
            await expect(page.get_by_test_id("preview-advice")).to_contain_text(
                "Police are on their way"
            )
            # The decision arriving moved nothing.
            assert await page.locator("#police").bounding_box() == police_box
            assert await page.get_by_test_id("intake-form").bounding_box() == form_box

            # A bad value: its message next to its field, no blocking alert.
            await page.fill('[name="person.age"]', "130")
            age_error = page.locator('[data-testid="field-error"][data-field="person.age"]')
            await expect(age_error).to_be_visible()
            await expect(age_error).to_contain_text("120")
            await expect(page.locator('[name="person.age"]')).to_have_attribute(
                "aria-invalid", "true"
            )
            await expect(outcome).to_have_attribute("data-outcome", "")
            await page.fill('[name="person.age"]', "34")
            await expect(age_error).to_be_hidden()
            await expect(outcome).to_have_attribute("data-outcome", "police_and_triage")
            await no_horizontal_scroll(page)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "intake-preview.png"))

            # The first answer is lost after the server recorded the call; Submit again (here a
            # double click) must still leave exactly one incident.
            keys: list[str | None] = []

            async def lose_first_answer(route):
                if route.request.method != "POST":
                    return await route.continue_()
                keys.append(route.request.headers.get("idempotency-key"))
                if len(keys) == 1:
                    await route.fetch()  # reaches the server…
                    return await route.abort("connectionreset")  # …but no answer comes back
                return await route.continue_()

            await page.route("**/api/v1/incidents", lose_first_answer)
            await page.get_by_test_id("submit").click()
            await expect(page.get_by_test_id("submit-status")).to_contain_text("Press Submit again")
            await page.get_by_test_id("submit").dblclick()
            result = page.get_by_test_id("incident-result")
            await expect(result).to_be_visible()
            incident_id = int(await result.get_attribute("data-incident-id"))
            listed = (await client.get("/api/v1/incidents", headers=handler["headers"])).json()[
                "items"
            ]
            assert [i["id"] for i in listed] == [incident_id]
            assert len(keys) >= 2 and len(set(keys)) == 1 and keys[0], keys

            # The offer to TC1 shows live, then the crew accepts.
            dispatch = page.get_by_test_id("dispatch-status")
            await expect(dispatch).to_have_attribute("data-unit", "TC1", timeout=10_000)
            await expect(dispatch).to_have_attribute("data-status", "offered")
            row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
            await expect(row).to_have_attribute("data-status", "open")
            incident = (
                await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
            ).json()
            offer = incident["assignments"][0]
            assert offer["unit"] == "TC1"
            r = await client.post(
                f"/api/v1/assignments/{offer['id']}/accept", headers=crew1["headers"]
            )
            assert r.status_code == 200, r.text
            await expect(dispatch).to_have_attribute("data-status", "accepted", timeout=10_000)
            await expect(dispatch).to_contain_text("TC1 · Accepted")
            await expect(row).to_have_attribute("data-status", "dispatched")

            # Override: a reason is required; both decisions stay visible.
            await page.get_by_test_id("override-open").click()
            await page.get_by_test_id("override-outcome").select_option("triage_car")
            await page.get_by_test_id("override-submit").click()
            await expect(
                page.get_by_test_id("override-form").locator(
                    '[data-testid="field-error"][data-field="reason"]'
                )
            ).to_be_visible()
            await page.get_by_test_id("override-reason").fill(
                "He has climbed down and is talking to staff."
            )
            await page.get_by_test_id("override-submit").click()
            await expect(page.get_by_test_id("result-override")).to_contain_text("climbed down")
            await expect(page.get_by_test_id("result-rules")).to_contain_text(
                "Police with the street triage car"
            )
            stored = (
                await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
            ).json()
            assert stored["decision"]["outcome"] == "police_and_triage"
            assert stored["override"]["outcome"] == "triage_car"
            await no_horizontal_scroll(page)
            await page.screenshot(path=str(SCREENSHOTS / "intake-dispatched.png"))

            # New call, on a smaller screen: a clean form and a new key. TC1 is busy, so TC2 is
            # offered; it declines and, with no car left, the handler sees the escalation.
            await page.set_viewport_size({"width": 1280, "height": 800})
            await page.get_by_test_id("new-call").click()
            await expect(outcome).to_have_attribute("data-outcome", "")
            await expect(page.get_by_test_id("risk.suicidal-unasked")).to_be_checked()
            await page.fill('[name="location.description"]', "Victoria Embankment")
            await page.select_option('[name="location.kind"]', "public_place")
            await page.select_option('[name="source"]', "nhs_111")
            await page.select_option('[name="category"]', "concern_for_welfare")
            await answer(page, "risk.self_harm", "y")
            await expect(outcome).to_have_attribute("data-outcome", "triage_car")
            await page.keyboard.press("Control+Enter")
            await expect(dispatch).to_have_attribute("data-unit", "TC2", timeout=10_000)
            second_id = int(await result.get_attribute("data-incident-id"))
            assert second_id != incident_id and keys[-1] != keys[0]
            offer = (
                await client.get(f"/api/v1/incidents/{second_id}", headers=handler["headers"])
            ).json()["assignments"][0]
            r = await client.post(
                f"/api/v1/assignments/{offer['id']}/decline",
                json={"reason": "Refuelling at Meadow Lane"},
                headers=crew2["headers"],
            )
            assert r.status_code == 200, r.text
            await expect(dispatch).to_have_attribute("data-escalated", "true", timeout=10_000)
            await expect(dispatch).to_contain_text("Refuelling at Meadow Lane")
            await expect(dispatch).to_contain_text("supervisors are alerted")
            second_row = page.locator(
                f'[data-testid="incident-row"][data-incident-id="{second_id}"]'
            )
            await expect(second_row).to_have_attribute("data-escalated", "true")
            # What it needs next follows the crew's answer (no incident event says so).
            step = (
                await client.get(f"/api/v1/incidents/{second_id}", headers=handler["headers"])
            ).json()["next_step"]
            assert step["action"] == "await_unit", step
            await expect(page.get_by_test_id("result-next-text")).to_have_text(step["text"])
            await expect(second_row.get_by_test_id("next-text")).to_have_text(step["text"])
            await expect(page.get_by_test_id("incident-row")).to_have_count(2)

            await no_horizontal_scroll(page)
            await page.screenshot(path=str(SCREENSHOTS / "intake-1280.png"))
            assert page_errors == []


@needs_chromium
async def test_referral_is_handed_off_then_closed_from_my_open_incidents(start_server):
    """A health_referral call from a member of the public: the hand-off is the next step with its
    due time; handing it to NHS 111 with a reference, then closing it as referred, removes it
    from the list. Keyboard only."""
    server = await start_server()
    handler = await add_user(server.database_url, "call_handler", username="handler-referral")
    async with browser() as chromium, httpx.AsyncClient(base_url=server.url) as client:
        page, page_errors = await open_intake(chromium, server, "handler-referral")
        incident_id = await take_call(
            page, source="police_101", category="concern_for_welfare", outcome="health_referral"
        )
        # A member of the public is pointed to NHS 111's mental health option.
        for place in ("preview-advice", "result-advice"):
            await expect(page.get_by_test_id(place)).to_contain_text(
                "call NHS 111 and choose the mental health option"
            )

        stored = (
            await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
        ).json()
        assert stored["next_step"]["action"] == "handoff"
        due_at = stored["next_step"]["due_at"]
        row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
        await expect(row).to_have_attribute("data-next-action", "handoff")
        await expect(row.get_by_test_id("next-text")).to_have_text(stored["next_step"]["text"])
        due = row.get_by_test_id("next-due")
        await expect(due).to_contain_text("Due in")
        await expect(due).to_contain_text(f"(by {london_hhmm(due_at)})")
        counted = await due.text_content()
        await expect(due).not_to_have_text(counted)  # it counts down
        await expect(row.get_by_test_id("next-action")).to_have_text("Hand off…")
        await expect(page.get_by_test_id("result-next-text")).to_have_text(
            stored["next_step"]["text"]
        )

        # From New call (where focus is after submitting), Tab to the row's action.
        await tab_to(page, "next-action")
        assert await page.evaluate(
            "document.activeElement.closest('[data-testid=incident-row]').dataset.incidentId"
        ) == str(incident_id)
        await page.keyboard.press("Enter")
        form = row.get_by_test_id("task-form")
        await expect(form).to_be_visible()
        # Pre-selected from the next step; focus is in the form.
        await expect(page.get_by_test_id("handoff-to")).to_be_focused()
        await expect(page.get_by_test_id("handoff-to")).to_have_value("nhs_111")
        await page.keyboard.press("Tab")
        await expect(page.get_by_test_id("handoff-reference")).to_be_focused()
        await page.keyboard.type("111-MH-4471")
        await no_horizontal_scroll(page)
        await page.screenshot(path=str(SCREENSHOTS / "intake-handoff.png"))

        # A time tomorrow is refused by the server: said next to "When", nothing recorded.
        tomorrow = datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)
        await page.get_by_test_id("handoff-at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
        await tab_to(page, "task-submit")
        await page.keyboard.press("Enter")
        at_error = row.locator('[data-testid="field-error"][data-field="at"]')
        await expect(at_error).to_be_visible()
        await expect(at_error).to_contain_text("future")
        await expect(page.get_by_test_id("handoff-at")).to_be_focused()
        await expect(row.get_by_test_id("task-status")).to_contain_text("Not recorded")
        stored = (
            await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
        ).json()
        assert stored["handoffs"] == []
        # Emptied, "when" is now.
        await page.get_by_test_id("handoff-at").fill("")
        await tab_to(page, "task-submit")
        await page.keyboard.press("Enter")

        # Handed off: now it needs closing as referred, and focus is on that action.
        await expect(row).to_have_attribute("data-next-action", "close", timeout=10_000)
        await expect(row.get_by_test_id("next-text")).to_contain_text("NHS 111")
        await expect(row.get_by_test_id("next-action")).to_have_text("Close…")
        await expect(row.get_by_test_id("next-action")).to_be_focused()
        await expect(page.get_by_test_id("task-announce")).to_contain_text(
            f"Incident {incident_id} passed to NHS 111"
        )
        stored = (
            await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
        ).json()
        assert [(h["to"], h["reference"]) for h in stored["handoffs"]] == [
            ("nhs_111", "111-MH-4471")
        ]

        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("close-reason")).to_be_focused()
        await expect(page.get_by_test_id("close-reason")).to_have_value("referred")
        await tab_to(page, "task-submit")
        await page.keyboard.press("Enter")
        await expect(row).to_have_count(0, timeout=10_000)
        await expect(page.get_by_test_id("task-announce")).to_contain_text(
            f"Incident {incident_id} closed as referred"
        )
        stored = (
            await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
        ).json()
        assert (stored["status"], stored["close_reason"]) == ("closed", "referred")
        assert page_errors == []


@needs_chromium
async def test_advice_call_is_closed_as_advice_given_in_one_action(start_server):
    server = await start_server()
    handler = await add_user(server.database_url, "call_handler", username="handler-advice")
    async with browser() as chromium, httpx.AsyncClient(base_url=server.url) as client:
        page, page_errors = await open_intake(chromium, server, "handler-advice", own_clock=True)
        incident_id = await take_call(
            page, source="police_101", category="other", outcome="no_police_action"
        )
        await expect(page.get_by_test_id("result-advice")).to_contain_text("Police will not attend")
        row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
        await expect(row).to_have_attribute("data-next-action", "close")
        await expect(row.get_by_test_id("next-text")).to_contain_text("advice given")
        await row.get_by_test_id("next-action").click()
        await expect(page.get_by_test_id("close-reason")).to_have_value("advice_given")

        # The live event may overtake the answer to our own request: hold the answer until the
        # event has taken the row away; the form must survive it and still finish the job.
        answered = asyncio.Event()

        async def answer_after_the_event(route: Route) -> None:
            response = await route.fetch()
            await answered.wait()
            await route.fulfill(response=response)

        await page.route(f"**/api/v1/incidents/{incident_id}/close", answer_after_the_event)
        await page.get_by_test_id("task-submit").click()
        await expect(row).to_have_count(0, timeout=10_000)
        answered.set()
        await expect(page.get_by_test_id("task-announce")).to_have_text(
            f"Incident {incident_id} closed as advice given."
        )
        stored = (
            await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
        ).json()
        assert (stored["status"], stored["close_reason"]) == ("closed", "advice_given")
        await expect(page.get_by_test_id("incident-row")).to_have_count(0)

        # Closing as "other" needs a note: said next to the Note field, nothing recorded.
        second = await take_call(
            page, source="police_101", category="other", outcome="no_police_action"
        )
        row = page.locator(f'[data-testid="incident-row"][data-incident-id="{second}"]')
        await row.get_by_test_id("next-action").click()
        await page.get_by_test_id("close-reason").select_option("other")
        await page.get_by_test_id("task-submit").click()
        note_error = page.locator('[data-testid="field-error"][data-field="note"]')
        await expect(note_error).to_be_visible()
        await expect(note_error).to_contain_text("Required")
        await expect(page.get_by_test_id("close-note")).to_be_focused()
        await page.keyboard.press("Escape")  # put away: nothing recorded, focus back on the row
        await expect(row.get_by_test_id("task-form")).to_have_count(0)
        await expect(row.get_by_test_id("next-action")).to_be_focused()
        stored = (
            await client.get(f"/api/v1/incidents/{second}", headers=handler["headers"])
        ).json()
        assert stored["status"] == "open"

        # Past its due time the task is marked overdue, on the row and in the list's header.
        next_step = row.locator(".row-next")
        await expect(next_step).to_have_attribute("data-overdue", "false")
        await expect(row.get_by_test_id("next-due")).to_contain_text("Due in")
        await page.clock.fast_forward("11:00")  # the default task limit is 10 minutes
        await expect(next_step).to_have_attribute("data-overdue", "true")
        await expect(row.get_by_test_id("next-due")).to_contain_text("Overdue by 1:")
        await expect(page.locator("#incidents-count")).to_contain_text("1 overdue")
        await page.screenshot(path=str(SCREENSHOTS / "intake-overdue.png"))
        assert page_errors == []


@needs_chromium
async def test_override_changes_the_caller_sentence(start_server):
    server = await start_server()
    handler = await add_user(server.database_url, "call_handler", username="handler-override")
    async with browser() as chromium, httpx.AsyncClient(base_url=server.url) as client:
        page, page_errors = await open_intake(chromium, server, "handler-override")
        # An NHS 111 clinician calls: the sentence is worded for them, before and after override.
        incident_id = await take_call(
            page,
            source="nhs_111",
            category="concern_for_welfare",
            yes=("risk.self_harm",),
            outcome="triage_car",
        )
        advice = page.get_by_test_id("result-advice")
        await expect(advice).to_contain_text("street triage team will respond to the person")
        await expect(page.get_by_test_id("preview-advice")).to_contain_text("street triage team")

        await page.get_by_test_id("override-open").click()
        await page.get_by_test_id("override-outcome").select_option("health_referral")
        await page.get_by_test_id("override-reason").fill("Her care coordinator is with her now.")
        await page.get_by_test_id("override-submit").click()
        await expect(page.get_by_test_id("result-override")).to_contain_text("care coordinator")
        new_sentence = "your NHS 111 mental health pathway continues to lead"
        await expect(advice).to_contain_text(new_sentence)
        # The rules' decision stays, struck through; the sentence to say is the override's.
        await expect(page.get_by_test_id("decision")).to_have_attribute("data-overridden", "true")
        await expect(page.get_by_test_id("preview-advice")).to_contain_text(new_sentence)
        stored = (
            await client.get(f"/api/v1/incidents/{incident_id}", headers=handler["headers"])
        ).json()
        assert new_sentence in stored["caller_advice"]
        assert "street triage team" in stored["decision"]["caller_advice"]
        await no_horizontal_scroll(page)
        await page.screenshot(path=str(SCREENSHOTS / "intake-override-advice.png"))
        assert page_errors == []
