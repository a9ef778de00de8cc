async def test_default_area_exists(client, supervisor):
    areas = (await client.get("/api/v1/areas", headers=supervisor)).json()
    default = next(a for a in areas if a["code"] == "default")
    assert default == {
        "code": "default",
        "name": default["name"],
        "rule_set": "default",
        "rcrp_scope": {"categories": None, "min_age": 0},
        "handover_goal_minutes": 60,
        "handover_warning_minutes": 45,
        "ack_timeout_seconds": 120,
        "urgent_ack_timeout_seconds": 30,
        "task_limit_minutes": 10,
        "escalation_repeat_seconds": 120,
        "stale_job_minutes": 20,
        "crew_access_hours": 12,
        "retention_days": 365,
        "handover_goals_by_place_type": {},
    }


async def test_create_and_patch_area(client, admin):
    created = await client.post(
        "/api/v1/areas",
        json={
            "code": "notts",
            "name": "Nottinghamshire",
            "rcrp_scope": {"categories": ["concern_for_welfare"], "min_age": 18},
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["rcrp_scope"] == {"categories": ["concern_for_welfare"], "min_age": 18}
    patched = await client.patch(
        "/api/v1/areas/notts", json={"handover_goal_minutes": 90}, headers=admin
    )
    assert patched.status_code == 200
    assert patched.json()["handover_goal_minutes"] == 90
    assert patched.json()["name"] == "Nottinghamshire"


async def test_area_errors(client, admin):
    await client.post("/api/v1/areas", json={"code": "dup", "name": "A"}, headers=admin)
    duplicate = await client.post("/api/v1/areas", json={"code": "dup", "name": "B"}, headers=admin)
    assert duplicate.status_code == 409
    bad_rule_set = await client.post(
        "/api/v1/areas", json={"code": "x1", "name": "X", "rule_set": "nope"}, headers=admin
    )
    assert bad_rule_set.status_code == 422
    assert bad_rule_set.json()["error"]["details"][0]["field"] == "rule_set"
    bad_code = await client.post(
        "/api/v1/areas", json={"code": "Has Spaces", "name": "X"}, headers=admin
    )
    assert bad_code.status_code == 422
    inverted = await client.patch(
        "/api/v1/areas/dup", json={"handover_warning_minutes": 70}, headers=admin
    )
    assert inverted.status_code == 422
    null = await client.patch("/api/v1/areas/dup", json={"name": None}, headers=admin)
    assert null.status_code == 422
    missing = await client.patch("/api/v1/areas/none", json={"name": "n"}, headers=admin)
    assert missing.status_code == 404


async def test_a_place_type_warning_at_or_after_its_goal_is_refused(client, admin):
    late = await client.patch(
        "/api/v1/areas/default",
        json={
            "handover_goals_by_place_type": {"emergency_department": {"goal": 30, "warning": 45}}
        },
        headers=admin,
    )
    assert late.status_code == 422, late.text
    assert late.json()["error"]["code"] == "invalid_thresholds"
    assert [d["field"] for d in late.json()["error"]["details"]] == [
        "handover_goals_by_place_type.emergency_department.warning"
    ]
    equal = await client.patch(
        "/api/v1/areas/default",
        json={"handover_goals_by_place_type": {"other": {"goal": 30, "warning": 30}}},
        headers=admin,
    )
    assert equal.status_code == 422
    created = await client.post(
        "/api/v1/areas",
        json={
            "code": "bad-goals",
            "name": "B",
            "handover_goals_by_place_type": {"emergency_department": {"goal": 20, "warning": 25}},
        },
        headers=admin,
    )
    assert created.status_code == 422
    areas = (await client.get("/api/v1/areas", headers=admin)).json()
    assert [a["code"] for a in areas] == ["default"]  # nothing written
    assert areas[0]["handover_goals_by_place_type"] == {}
    ok = await client.patch(
        "/api/v1/areas/default",
        json={
            "handover_goals_by_place_type": {"emergency_department": {"goal": 30, "warning": 20}}
        },
        headers=admin,
    )
    assert ok.status_code == 200, ok.text


async def test_every_bad_warning_is_named_at_once(client, admin):
    r = await client.patch(
        "/api/v1/areas/default",
        json={
            "handover_goal_minutes": 40,
            "handover_warning_minutes": 40,
            "handover_goals_by_place_type": {
                "emergency_department": {"goal": 30, "warning": 45},
                "health_based_place_of_safety": None,
            },
        },
        headers=admin,
    )
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == [
        "handover_warning_minutes",
        "handover_goals_by_place_type.emergency_department.warning",
    ]
