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
