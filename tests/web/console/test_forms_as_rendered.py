"""Every form the console renders can be sent as a browser would send it: no field on a
page is one its schema refuses as unknown (a named button, a stray input)."""

from __future__ import annotations

from tests.factories import case_update
from tests.web.console.conftest import browser_fields, soup

UNKNOWN_FIELD = "不允许的字段"


def test_every_rendered_form_is_accepted_by_its_schema(console, report, login):
    case_id = report(involved_towns=["shenzhen"])
    phone, other = login("dayan_worker"), login("dayan_worker")
    phone.push_ok(case_update(case_id, 1, title="甲"))
    other.push_ok(case_update(case_id, 1, title="乙"))  # a conflict to resolve
    dayan = console("dayan_supervisor")
    dayan.post(f"/console/cases/{case_id}/handoff", {"to_town": "xidian", "reason": "试"})
    admin = console("admin")
    pages = [
        "/console/cases",
        f"/console/cases/{case_id}",
        "/console/conflicts",
        "/console/rejections",
        "/console/checkins",
        "/console/members?q=王建国",
        "/console/devices",
        "/console/stats",
        "/console/admin/users",
        "/console/admin/towns",
        "/console/admin/categories",
        "/console/admin/sites",
    ]
    sent = 0
    for path in pages:
        page = admin.page(path)
        for form in page.select("form[method=post]"):
            if form["action"].endswith("/logout"):
                continue
            buttons = form.select("button") or [None]
            for button in buttons[:1]:
                data = browser_fields(form, button)
                data.pop("csrf_token", None)
                response = admin.client.post(
                    form["action"], data={**data, "csrf_token": admin.csrf}
                )
                assert UNKNOWN_FIELD not in soup(response).get_text(), (
                    path,
                    form["action"],
                    sorted(data),
                )
                assert response.status_code < 500, (path, form["action"])
                sent += 1
                if admin.get("/console/cases").status_code != 200:  # it reset its own password
                    admin.sign_in()
    assert sent >= 15
