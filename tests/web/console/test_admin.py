"""Administration: an admin manages people and reference data, and the phones follow.

Each story runs on SQLite and PostgreSQL: the admin acts in the console, then a phone pulls
(or signs in) and sees the result; refused input is a 422 with nothing written.
"""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from server.domain.reference import MAX_TOWN_BIT, lowest_free_bit, route_order
from server.models import (
    Category,
    ConsoleSession,
    FeedEntry,
    Grid,
    Route,
    ServerState,
    Site,
    Town,
    User,
)
from tests.factories import DEMO_PASSWORD, DeviceClient
from tests.web.console.conftest import ConsoleUser, soup

PAGES = [
    "/console/admin/users",
    "/console/admin/towns",
    "/console/admin/categories",
    "/console/admin/sites",
]
NEW_PASSWORD = "neue-passwort-2026"


def user_id(rows: Any, username: str) -> str:
    return rows(User, username=username)[0].id


def last_seq(rows: Any) -> int:
    return rows(ServerState)[0].last_seq


def done_text(admin: ConsoleUser, response: Any) -> str:
    """Follow the redirect after an action and read the done message."""
    assert response.status_code == 302, response.text[:800]
    page = admin.page(response.headers["Location"])
    message = page.select_one("#done")
    assert message is not None
    return message.text


def refused(response: Any) -> dict[str, str]:
    """A 422 page: the refused fields and their reasons."""
    assert response.status_code == 422, (response.status_code, response.text[:800])
    return {li["data-field"]: li.text for li in soup(response).select("#errors li")}


def phone_for(client: Any, username: str, password: str = DEMO_PASSWORD) -> DeviceClient:
    return DeviceClient(client, username, password=password)


# ---------------------------------------------------------------- users


def test_admin_creates_a_worker_who_signs_in_and_appears_on_phones(
    admin_console, login, client, rows
):
    colleague = login("dayan_worker")
    colleague.sync()
    response = admin_console.post(
        "/console/admin/users",
        {
            "username": "dayan_li",
            "display_name": "李网格",
            "role": "worker",
            "town": "dayan",
            "password": "chushi-mima-1",
        },
    )
    assert "已创建用户" in done_text(admin_console, response)

    newcomer = phone_for(client, "dayan_li", "chushi-mima-1")
    assert newcomer.login().status_code == 200
    assert newcomer.user["town"] == "dayan" and newcomer.user["role"] == "worker"

    colleague.sync()
    users = colleague.of("user")
    assert users[newcomer.user["id"]]["data"] == {
        "username": None,  # a colleague's phone gets the name to show, not to sign in with
        "display_name": "李网格",
        "role": "worker",
        "town": "dayan",
    }
    assert users[newcomer.user["id"]]["version"] == 1

    row = admin_console.page("/console/admin/users").select_one("tr[data-user=dayan_li]")
    assert "李网格" in row.text and row.select_one(".devices").text == "1"


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({"password": "short"}, "password", "长度不能少于 8"),
        ({"town": "nowhere"}, "town", "没有这个乡镇"),
        ({"username": "dayan_worker"}, "username", "已被使用"),
        ({"town": ""}, "town", "必须属于一个乡镇"),
        ({"role": "admin"}, "town", "不属于某个乡镇"),
        ({"role": "root"}, "role", "必须是以下之一"),
        ({"username": "Bad Name"}, "username", "格式不正确"),
        ({"is_admin": "1"}, "is_admin", "不允许的字段"),
    ],
)
def test_refused_user_input_is_a_422_with_nothing_written(admin_console, rows, form, field, reason):
    users, seq = len(rows(User)), last_seq(rows)
    body = {
        "username": "dayan_wang",
        "display_name": "王网格",
        "role": "worker",
        "town": "dayan",
        "password": "chushi-mima-1",
        **form,
    }
    errors = refused(admin_console.post("/console/admin/users", body))
    assert reason in errors[field]
    assert len(rows(User)) == users and last_seq(rows) == seq


def test_admin_moves_a_worker_to_another_town_and_phones_see_the_new_record(
    admin_console, login, rows
):
    phone = login("shenzhen_worker")
    phone.sync()
    worker_id = user_id(rows, "dayan_worker")
    before = phone.of("user")[worker_id]["version"]

    response = admin_console.post(
        f"/console/admin/users/{worker_id}",
        {"display_name": "大堰网格员", "role": "worker", "town": "shenzhen"},
    )
    assert "已保存用户" in done_text(admin_console, response)

    phone.sync()
    record = phone.of("user")[worker_id]
    assert record["data"]["town"] == "shenzhen" and record["version"] == before + 1
    assert rows(User, id=worker_id)[0].town_code == "shenzhen"

    seq = last_seq(rows)  # saving it unchanged publishes nothing
    admin_console.post(
        f"/console/admin/users/{worker_id}",
        {"display_name": "大堰网格员", "role": "worker", "town": "shenzhen"},
    )
    assert last_seq(rows) == seq


def test_admin_resets_a_password_and_ends_that_users_console_sessions(
    admin_console, console, client, rows
):
    supervisor = console("dayan_supervisor")
    target = user_id(rows, "dayan_supervisor")

    errors = refused(
        admin_console.post(f"/console/admin/users/{target}/password", {"password": "1234567"})
    )
    assert "长度不能少于 8" in errors["password"]
    assert supervisor.get("/console/cases").status_code == 200  # nothing happened

    response = admin_console.post(
        f"/console/admin/users/{target}/password", {"password": NEW_PASSWORD}
    )
    assert "已重置密码" in done_text(admin_console, response)

    ended = supervisor.get("/console/cases")
    assert ended.status_code == 302 and "/console/login" in ended.headers["Location"]
    assert rows(ConsoleSession, user_id=target) == []
    assert phone_for(client, "dayan_supervisor").login().status_code == 401
    assert phone_for(client, "dayan_supervisor", NEW_PASSWORD).login().status_code == 200
    assert console("dayan_supervisor", NEW_PASSWORD).get("/console/cases").status_code == 200


def test_deactivated_worker_is_refused_by_the_api_until_reactivated_and_signed_in_again(
    admin_console, login, rows
):
    phone = login("dayan_worker")
    phone.sync()
    target = user_id(rows, "dayan_worker")

    response = admin_console.post(f"/console/admin/users/{target}/active", {"active": "0"})
    assert "已停用账号" in done_text(admin_console, response)
    refused_pull = phone.pull(phone.cursor)
    assert refused_pull.status_code == 401
    assert refused_pull.get_json()["error"]["code"] == "account_disabled"
    row = admin_console.page("/console/admin/users").select_one("tr[data-user=dayan_worker]")
    assert row.select_one(".active").text == "否"

    admin_console.post(f"/console/admin/users/{target}/active", {"active": "1"})
    # The token from before the deactivation never works again: the worker signs in anew.
    stale = phone.pull(phone.cursor)
    assert stale.status_code == 401
    assert stale.get_json()["error"]["code"] == "token_expired"
    assert phone.login().status_code == 200
    assert phone.pull(phone.cursor).status_code == 200


def test_deactivating_a_supervisor_ends_their_console_session(admin_console, console, rows):
    supervisor = console("xidian_supervisor")
    target = user_id(rows, "xidian_supervisor")
    admin_console.post(f"/console/admin/users/{target}/active", {"active": "0"})
    assert supervisor.get("/console/cases").status_code == 302
    again = ConsoleUser(admin_console.client.application, "xidian_supervisor").sign_in()
    assert again.status_code == 401 and "不能使用管理台" in again.text


def test_an_admin_cannot_deactivate_or_demote_themselves(admin_console, rows):
    me = user_id(rows, "admin")
    seq = last_seq(rows)

    errors = refused(admin_console.post(f"/console/admin/users/{me}/active", {"active": "0"}))
    assert "不能停用自己的账号" in errors["active"]
    errors = refused(
        admin_console.post(
            f"/console/admin/users/{me}",
            {"display_name": "联盟管理员", "role": "supervisor", "town": "dayan"},
        )
    )
    assert "不能取消自己的联盟管理员角色" in errors["role"]

    admin = rows(User, id=me)[0]
    assert admin.is_active and admin.role == "admin" and last_seq(rows) == seq
    assert admin_console.get("/console/admin/users").status_code == 200


def test_unknown_user_is_404(admin_console):
    missing = "6f1c7a2e-8d59-4d3c-9d4f-1a2b3c4d5e6f"
    assert (
        admin_console.post(f"/console/admin/users/{missing}/active", {"active": "0"}).status_code
        == 404
    )


# ---------------------------------------------------------------- categories


def test_admin_renames_a_category_and_phones_see_it_with_a_higher_version(
    admin_console, worker, rows
):
    worker.sync()
    water = rows(Category, code="water")[0]
    before = worker.of("category")[water.id]

    response = admin_console.post(
        "/console/admin/categories/water",
        {"name": "水利纠纷", "name_en": "Water disputes", "position": "0"},
    )
    assert "已保存类别" in done_text(admin_console, response)

    worker.sync()
    after = worker.of("category")[water.id]
    assert after["data"]["name"] == "水利纠纷" and after["data"]["position"] == 0
    assert after["version"] == before["version"] + 1
    page = admin_console.page("/console/admin/categories")
    codes = [row["data-category"] for row in page.select("#categories tbody tr")]
    assert codes[:2] == ["land", "water"]  # by position, then code


def test_admin_adds_a_category_after_the_last_and_refuses_a_taken_code(admin_console, worker, rows):
    response = admin_console.post(
        "/console/admin/categories", {"code": "forestry", "name": "林业", "name_en": "Forestry"}
    )
    assert "已新增类别" in done_text(admin_console, response)
    positions = [c.position for c in rows(Category)]
    added = rows(Category, code="forestry")[0]
    assert added.position == max(positions)
    worker.sync()
    assert worker.of("category")[added.id]["data"]["name"] == "林业"

    seq = last_seq(rows)
    errors = refused(
        admin_console.post(
            "/console/admin/categories",
            {"code": "forestry", "name": "林业二", "name_en": "Forestry 2"},
        )
    )
    assert "此代码已被使用" in errors["code"]
    errors = refused(
        admin_console.post(
            "/console/admin/categories/water", {"name": "", "name_en": "Water", "position": "-1"}
        )
    )
    assert set(errors) == {"name", "position"}
    assert last_seq(rows) == seq and rows(Category, code="water")[0].name == "水利用水"


# ---------------------------------------------------------------- towns and grids

NEW_TOWN = {
    "code": "huangtan",
    "abbr": "HT",
    "name": "黄坛镇",
    "name_en": "Huangtan",
    "county": "宁海县",
    "city": "宁波",
    "lat": "29.30",
    "lon": "121.30",
}


def test_admin_adds_a_town_with_a_free_bit_and_a_supervisor_for_it(
    admin_console, console, worker, rows
):
    response = admin_console.post("/console/admin/towns", NEW_TOWN)
    assert "已新增乡镇" in done_text(admin_console, response)
    town = rows(Town, code="huangtan")[0]
    assert town.bit == 5 and town.abbr == "HT"
    worker.sync()
    assert worker.of("town")[town.id]["data"]["name"] == "黄坛镇"

    response = admin_console.post(
        "/console/admin/users",
        {
            "username": "huangtan_supervisor",
            "display_name": "黄坛镇管理员",
            "role": "supervisor",
            "town": "huangtan",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    supervisor = console("huangtan_supervisor", NEW_PASSWORD)
    assert supervisor.get("/console/cases").status_code == 200
    assert supervisor.get("/console/admin/towns").status_code == 403


def test_a_new_town_takes_the_lowest_free_bit(admin_console, execute, rows):
    execute("UPDATE towns SET bit = 40 WHERE code = 'shiliang'")
    assert admin_console.post("/console/admin/towns", NEW_TOWN).status_code == 302
    assert rows(Town, code="huangtan")[0].bit == 3


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({"code": "dayan"}, "code", "此代码已被使用"),
        ({"abbr": "DY"}, "abbr", "编号前缀已被其他乡镇使用"),
        ({"abbr": "ht"}, "abbr", "格式不正确"),
        ({"lat": "95"}, "lat", "须在 -90 到 90 之间"),
        ({"code": "Huang Tan"}, "code", "格式不正确"),
        ({"bit": "7"}, "bit", "不允许的字段"),
    ],
)
def test_refused_town_input_is_a_422_with_nothing_written(admin_console, rows, form, field, reason):
    seq, towns = last_seq(rows), len(rows(Town))
    errors = refused(admin_console.post("/console/admin/towns", {**NEW_TOWN, **form}))
    assert reason in errors[field]
    assert len(rows(Town)) == towns and last_seq(rows) == seq


def test_admin_edits_a_town_and_phones_see_the_new_names(admin_console, worker, rows):
    worker.sync()
    dayan = rows(Town, code="dayan")[0]
    before = worker.of("town")[dayan.id]["version"]
    response = admin_console.post(
        "/console/admin/towns/dayan",
        {
            "name": "大堰镇",
            "name_en": "Dayan Town",
            "county": "奉化区",
            "city": "宁波",
            "lat": "29.4811",
            "lon": "121.1702",
        },
    )
    assert "已保存乡镇" in done_text(admin_console, response)
    worker.sync()
    record = worker.of("town")[dayan.id]
    assert record["data"]["name_en"] == "Dayan Town" and record["version"] == before + 1
    assert record["data"]["lat"] == pytest.approx(29.4811)
    assert rows(Town, code="dayan")[0].bit == dayan.bit  # bits and codes never move


def test_admin_adds_and_edits_grids_kept_off_the_feed(admin_console, rows):
    seq = last_seq(rows)
    response = admin_console.post(
        "/console/admin/grids",
        {"code": "dayan_g01", "name": "大堰一网格", "village": "大堰村", "town": "dayan"},
    )
    assert "已新增网格" in done_text(admin_console, response)
    response = admin_console.post(
        "/console/admin/grids/dayan_g01",
        {"name": "大堰第一网格", "village": "箭岭村", "town": "dayan"},
    )
    assert "已保存网格" in done_text(admin_console, response)
    grid = rows(Grid, code="dayan_g01")[0]
    assert (grid.name, grid.village, grid.town_code) == ("大堰第一网格", "箭岭村", "dayan")
    assert last_seq(rows) == seq and rows(FeedEntry, entity="grid") == []

    assert (
        "没有这个乡镇"
        in refused(
            admin_console.post(
                "/console/admin/grids", {"code": "dayan_g02", "name": "二", "town": "nowhere"}
            )
        )["town"]
    )
    assert (
        "此代码已被使用"
        in refused(
            admin_console.post(
                "/console/admin/grids", {"code": "dayan_g01", "name": "二", "town": "dayan"}
            )
        )["code"]
    )
    assert len(rows(Grid)) == 1
    page = admin_console.page("/console/admin/towns")
    assert "箭岭村" in page.select_one("tr[data-grid=dayan_g01]").text


# ---------------------------------------------------------------- sites and routes


def route_form(order: list[str], site_ids: list[str]) -> dict[str, str]:
    """Positions for the sites in `order`; every other site left empty (off the route)."""
    positions = {site_id: str(n) for n, site_id in enumerate(order, 1)}
    return {f"pos_{site_id}": positions.get(site_id, "") for site_id in site_ids}


def test_admin_reorders_a_route_and_the_phone_walks_the_new_order(admin_console, worker, rows):
    worker.sync()
    route = rows(Route, code="zhedong_red_vein")[0]
    original = list(route.site_ids)
    before = worker.of("route")[route.id]["version"]
    all_sites = [s.id for s in rows(Site)]

    reversed_order = list(reversed(original))
    response = admin_console.post(
        "/console/admin/routes/zhedong_red_vein/order", route_form(reversed_order, all_sites)
    )
    assert "已保存线路顺序" in done_text(admin_console, response)
    worker.sync()
    record = worker.of("route")[route.id]
    assert record["data"]["site_ids"] == reversed_order and record["version"] == before + 1

    response = admin_console.post(
        "/console/admin/routes/zhedong_red_vein/order", route_form(reversed_order[:2], all_sites)
    )
    assert response.status_code == 302
    worker.sync()
    assert worker.of("route")[route.id]["data"]["site_ids"] == reversed_order[:2]

    page = admin_console.page("/console/admin/sites")
    inputs = page.select("[data-route=zhedong_red_vein] input[type=number]")
    assert [i.get("value") for i in inputs][:3] == ["1", "2", ""]


def test_refused_route_orders_change_nothing(admin_console, rows):
    route = rows(Route, code="zhedong_red_vein")[0]
    all_sites = [s.id for s in rows(Site)]
    seq = last_seq(rows)

    assert (
        "至少要有一个点位"
        in refused(
            admin_console.post(
                "/console/admin/routes/zhedong_red_vein/order", route_form([], all_sites)
            )
        )["_schema"]
    )
    bad = route_form(route.site_ids, all_sites) | {f"pos_{all_sites[0]}": "0"}
    errors = refused(admin_console.post("/console/admin/routes/zhedong_red_vein/order", bad))
    assert any("须在 1 到 999 之间" in reason for reason in errors.values())
    stranger = route_form(route.site_ids, all_sites) | {"pos_not-a-site": "1"}
    errors = refused(admin_console.post("/console/admin/routes/zhedong_red_vein/order", stranger))
    assert "不允许的字段" in errors["pos_not-a-site"]
    assert admin_console.post("/console/admin/routes/nowhere/order", {}).status_code == 404
    assert rows(Route, code="zhedong_red_vein")[0].site_ids == route.site_ids
    assert last_seq(rows) == seq


SITE = {
    "code": "tengtou_court",
    "name": "滕头村道德庭",
    "town": "dayan",
    "village": "滕头村",
    "lat": "29.55",
    "lon": "121.35",
    "radius_m": "200",
    "description": "党员说事",
}


def test_admin_adds_and_edits_a_site_and_phones_see_it(admin_console, worker, rows):
    response = admin_console.post("/console/admin/sites", SITE)
    assert "已新增点位" in done_text(admin_console, response)
    site = rows(Site, code="tengtou_court")[0]
    worker.sync()
    assert worker.of("site")[site.id]["data"]["radius_m"] == 200

    response = admin_console.post(
        "/console/admin/sites/tengtou_court",
        {**{k: v for k, v in SITE.items() if k != "code"}, "radius_m": "300", "town": "xidian"},
    )
    assert "已保存点位" in done_text(admin_console, response)
    worker.sync()
    record = worker.of("site")[site.id]
    assert record["data"]["radius_m"] == 300 and record["data"]["town"] == "xidian"
    assert record["version"] == 2

    seq = last_seq(rows)
    assert "此代码已被使用" in refused(admin_console.post("/console/admin/sites", SITE))["code"]
    assert (
        "须在 10 到 5000 之间"
        in refused(
            admin_console.post("/console/admin/sites", {**SITE, "code": "other", "radius_m": "5"})
        )["radius_m"]
    )
    assert (
        "不允许的字段"
        in refused(admin_console.post("/console/admin/sites/tengtou_court", SITE))["code"]
    )  # codes never change
    assert last_seq(rows) == seq and len(rows(Site, code="other")) == 0


# ---------------------------------------------------------------- access and pages


def admin_posts(app: Flask) -> list[str]:
    """Every administration POST route, with sample arguments."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("console.admin") and "POST" in rule.methods:
                values = {
                    arg: "6f1c7a2e-8d59-4d3c-9d4f-1a2b3c4d5e6f" if arg == "user_id" else "dayan"
                    for arg in rule.arguments
                }
                urls.append(url_for(rule.endpoint, **values))
    return urls


def test_a_supervisor_gets_403_on_every_admin_page_and_post(app, dayan_console, rows):
    seq = last_seq(rows)
    for path in PAGES:
        assert dayan_console.get(path).status_code == 403, path
    urls = admin_posts(app)
    assert len(urls) == 13
    target = user_id(rows, "dayan_worker")
    urls.append(f"/console/admin/users/{target}/active")
    for url in urls:
        response = dayan_console.post(url, {"active": "0", "name": "x"})
        assert response.status_code == 403, url
    assert rows(User, id=target)[0].is_active and last_seq(rows) == seq
    nav = dayan_console.page("/console/cases").select_one("header nav")
    assert "/console/admin/users" not in str(nav)


def test_every_admin_post_without_the_csrf_token_is_400(app, admin_console, rows):
    seq = last_seq(rows)
    for url in admin_posts(app):
        assert admin_console.post(url, {"name": "x"}, csrf=False).status_code == 400, url
    assert last_seq(rows) == seq


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_render_in_both_languages_without_inline_script_or_style(admin_console, path):
    for language in ("zh-CN", "en"):
        admin_console.client.set_cookie("fengling_lang", language, path="/console")
        response = admin_console.get(path)
        assert response.status_code == 200
        page = BeautifulSoup(response.text, "html.parser")
        assert page.select("[style]") == [] and page.select("script") == []
        for form in page.select("main form"):
            assert form.select_one("input[name=csrf_token]"), form
        assert page.select_one("#admin-nav")
        assert "admin." not in page.select_one("main").text  # every key is translated
    assert "Administration" in admin_console.page(path).select_one("header nav").text


# ---------------------------------------------------------------- domain rules


def test_lowest_free_bit_fills_gaps_and_stops_at_63_towns():
    assert lowest_free_bit([]) == 0
    assert lowest_free_bit([0, 1, 2, 4]) == 3
    assert lowest_free_bit(range(MAX_TOWN_BIT + 1)) is None


def test_route_order_sorts_by_position_and_keeps_the_former_order_on_ties():
    assert route_order({"a": 2, "b": 1, "c": None}, ["a", "b", "c"]) == ["b", "a"]
    assert route_order({"a": 1, "b": 1, "new": 1}, ["b", "a"]) == ["b", "a", "new"]
    assert route_order({"a": None}, ["a"]) == []


def test_each_refused_account_is_worded_next_to_its_field(app):
    """The command line's refusals carry a code; the console words it, never parsing text."""
    from server.accounts.users import AccountError, add_user
    from server.extensions import db
    from server.sync.feed import FeedWriter
    from server.web.console.admin import account_refusal

    refusals = [
        (("li_si", DEMO_PASSWORD, "worker", None), "town", "need a town"),
        (("li_si", DEMO_PASSWORD, "worker", "atlantis"), "town", "no such town"),
        (("li_si", DEMO_PASSWORD, "admin", "dayan"), "town", "have no town"),
        (("li_si", "short", "worker", "dayan"), "password", "at least 8 characters"),
        (("admin", DEMO_PASSWORD, "admin", None), "username", "username is taken"),
    ]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for args, field, words in refusals:
            with pytest.raises(AccountError) as refused:
                add_user(FeedWriter(db.session, 0), *args, "李四")
            [(named, [said])] = account_refusal(refused.value).errors.items()
            assert named == field and words in said, (args, named, said)
        db.session.rollback()
