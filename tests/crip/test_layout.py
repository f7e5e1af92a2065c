"""The back office wears its own clothes: staff header, no quick exit, no public language list or
footer, its own error pages; staff choose their language once in their account (French by default)."""
from __future__ import annotations

from portal.extensions import db
from portal.models import StaffUser

PUBLIC_MARKS = ("data-quick-exit", "quick-exit-bar", 'class="lang-switch"', "footer-help", "site-footer")


def _assert_back_office(html: str):
    for mark in PUBLIC_MARKS:
        assert mark not in html, mark
    assert 'class="staff-header"' in html


def test_every_page_is_a_back_office_page(crip_app, users, signed_in, sample_ip):
    pages = {"agent": ["/crip/", f"/crip/ip/{sample_ip.reference}", "/crip/saisie", "/crip/compte",
                       "/crip/mot-de-passe"],
             "supervisor": ["/crip/statistiques"], "admin": ["/crip/comptes"]}
    for role, paths in pages.items():
        c = signed_in(role)
        for path in paths:
            r = c.get(path)
            assert r.status_code == 200, path
            html = r.data.decode()
            _assert_back_office(html)
            assert html.count("<h1") == 1, path
            assert "Test" in html   # the signed-in person's name in the header
    r = crip_app.test_client().get("/crip/connexion")
    _assert_back_office(r.data.decode())


def test_error_pages_stay_inside_the_back_office(crip_app, users, signed_in):
    c = signed_in("agent")
    r = c.get("/crip/comptes?lang=en")
    assert r.status_code == 403
    html = r.data.decode()
    _assert_back_office(html)
    assert "Your role does not give access to this page" in html and "Back to the queue" in html
    r = c.get("/crip/no-such-page?lang=en")
    assert r.status_code == 404
    _assert_back_office(r.data.decode())
    assert "does not exist in your CRIP" in r.data.decode()
    r = c.get("/crip/ip/AAAA-BBBB-CCCC?lang=en")
    assert r.status_code == 404 and "does not exist in your CRIP" in r.data.decode()
    # the public site keeps its own error page
    r = crip_app.test_client().get("/no-such-page")
    assert r.status_code == 404 and "staff-header" not in r.data.decode()


def test_language_is_chosen_once_in_the_account(crip_app, users, signed_in):
    c = signed_in("agent")
    assert '<html lang="fr"' in c.get("/crip/", headers={"Accept-Language": "en"}).data.decode()
    r = c.post("/crip/compte", data={"language": "en"})
    assert r.status_code == 303
    page = c.get("/crip/").data.decode()
    assert '<html lang="en"' in page and "Queue" in page
    with crip_app.app_context():
        assert db.session.get(StaffUser, users["agent"][0]).language == "en"
    r = c.post("/crip/compte", data={"language": "xx"})
    assert r.status_code == 400


def test_language_change_shows_a_notice(crip_app, users, signed_in):
    c = signed_in("agent")
    r = c.post("/crip/compte", data={"language": "en"}, follow_redirects=True)
    assert "Your language is now English." in r.data.decode()
