"""The nurse desk in a real headless Chromium against a real server: an officer's advice request
arrives with the officer's details and account, the nurse accepts it, records the advice and
that s136 was not used, and the service has the assignment cleared with that advice."""

import re

import httpx
from playwright.async_api import expect

from tests.browser import SCREENSHOTS, browser, needs_chromium, sign_in
from tests.factories import incident
from tests.live import add_user

VIEWPORT = {"width": 1280, "height": 800}


def request_card(page, assignment_id: int):
    return page.locator(f'[data-testid="request-card"][data-assignment-id="{assignment_id}"]')


def advice_request(name: str, role: str, phone: str, account: str, **changes) -> dict:
    return incident(
        source="officer_on_scene",
        circumstances=account,
        caller={"name": name, "role": role, "phone": phone},
        **{"risk.immediate_risk_to_life": False, "risk.suicidal": False, **changes},
    )


async def assignment(client, supervisor, assignment_id: int) -> dict:
    r = await client.get(
        "/api/v1/assignments", params={"active": "false"}, headers=supervisor["headers"]
    )
    assert r.status_code == 200, r.text
    return next(a for a in r.json() if a["id"] == assignment_id)


@needs_chromium
async def test_nurse_desk_takes_an_advice_request(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    await add_user(db, "nurse", unit="DESK1", username="nurse-desk1")
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post(
            "/api/v1/units",
            json={"callsign": "DESK1", "kind": "nurse_desk", "status": "available"},
            headers=supervisor["headers"],
        )
        assert r.status_code == 201, r.text

        async with browser() as chromium:
            context = await chromium.new_context(viewport=VIEWPORT, reduced_motion="reduce")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{server.url}/nurse")
            await sign_in(page, "nurse-desk1")
            await expect(page.get_by_test_id("connection-status")).to_have_text(
                "live", timeout=10_000
            )

            # --- an officer on scene asks for advice
            r = await client.post(
                "/api/v1/incidents",
                json=advice_request(
                    "PC Ahmed",
                    "PC 1234, response",
                    "07700 900123",
                    "Woman on the bridge parapet, now stepped back and talking. "
                    "Asks whether s136 is needed.",
                    **{"context.crisis_plan": True},
                ),
                headers=handler["headers"],
            )
            assert r.status_code == 201, r.text
            created = r.json()
            assert created["decision"]["outcome"] == "nurse_advice"
            offer = next(a for a in created["assignments"] if a["unit"] == "DESK1")
            card = request_card(page, offer["id"])
            await card.wait_for(timeout=10_000)
            await expect(card).to_have_attribute("data-status", "offered")
            caller = card.get_by_test_id("request-caller")
            await expect(caller).to_contain_text("PC Ahmed")
            await expect(caller).to_contain_text("PC 1234, response")
            await expect(caller).to_contain_text("07700 900123")
            await expect(card.get_by_test_id("request-circumstances")).to_contain_text(
                "bridge parapet"
            )
            await expect(card.get_by_test_id("request-location")).to_contain_text("Trent Bridge")
            await expect(card.get_by_test_id("request-context")).to_contain_text(
                "Known to mental health services"
            )
            await expect(card.get_by_test_id("request-context")).to_contain_text("crisis plan")
            await expect(card).to_have_attribute("data-alerted", re.compile(r"sound|visual"))

            # --- accept
            await card.get_by_test_id("request-accept").click()
            await expect(card).to_have_attribute("data-status", "accepted")
            for _ in range(50):
                if (await assignment(client, supervisor, offer["id"]))["status"] == "accepted":
                    break
                await page.wait_for_timeout(100)
            assert (await assignment(client, supervisor, offer["id"]))["status"] == "accepted"

            # --- the advice: both parts are required
            await card.get_by_test_id("advice-submit").click()
            await expect(
                card.locator('[data-testid="field-error"][data-field="advice"]')
            ).to_be_visible()
            await expect(
                card.locator('[data-testid="field-error"][data-field="s136_used"]')
            ).to_be_visible()
            advice = (
                "Known to the crisis team; she agrees to go home with her sister. "
                "Crisis team to visit within the hour. s136 not needed."
            )
            await card.get_by_test_id("advice-text").fill(advice)
            # what is typed survives a reload
            await page.reload()
            card = request_card(page, offer["id"])
            await expect(card.get_by_test_id("advice-text")).to_have_value(advice, timeout=10_000)
            await card.get_by_test_id("advice-s136-no").click()
            await expect(card.get_by_test_id("advice-s136-no")).to_have_attribute(
                "aria-checked", "true"
            )
            await card.get_by_test_id("advice-submit").click()
            await card.wait_for(state="detached", timeout=10_000)
            handled = page.locator(
                f'[data-testid="handled-row"][data-assignment-id="{offer["id"]}"]'
            )
            await expect(handled).to_contain_text("No s136", timeout=10_000)
            await expect(handled).not_to_contain_text("sending")
            done = await assignment(client, supervisor, offer["id"])
            assert done["status"] == "cleared", done
            assert done["advice"] == advice
            assert done["s136_used"] is False

            # --- a second request, for the screenshot: details and the advice form
            r = await client.post(
                "/api/v1/incidents",
                json=advice_request(
                    "PS Okafor",
                    "PS 2210, neighbourhood team",
                    "07700 900789",
                    "Man in his 20s outside Victoria Centre shouting at passers-by, says "
                    "people are following him. Not violent. Mum says he stopped his "
                    "medication last week. Do we need s136?",
                    **{
                        "location.description": "Victoria Centre, Milton Street entrance",
                        "person.description": "man, 20s, grey hoodie",
                        "person.age": 24,
                        "context.known_to_mh_services": False,
                    },
                ),
                headers=handler["headers"],
            )
            assert r.status_code == 201, r.text
            second = next(a for a in r.json()["assignments"] if a["unit"] == "DESK1")
            card = page.locator(
                f'[data-testid="request-card"][data-assignment-id="{second["id"]}"]'
            )
            await card.wait_for(timeout=10_000)
            await card.get_by_test_id("request-accept").click()
            await expect(card).to_have_attribute("data-status", "accepted")
            await card.get_by_test_id("advice-text").fill(
                "Advised: sounds like relapse; try the crisis line with him first"
            )
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "nurse-request.png"))
            assert errors == [], errors
