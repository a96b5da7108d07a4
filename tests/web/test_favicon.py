"""The site's icon: linked from every page as SVG, and at /favicon.ico for browsers that ask by that name."""

from __future__ import annotations


def test_favicon_ico_answers_an_icon_anyone_may_cache(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header: reserved 0, type 1 (icon)
    assert response.cache_control.public and response.cache_control.max_age == 7 * 86400
    assert not response.cache_control.no_cache


def test_every_page_links_the_svg_icon(client):
    login = client.get("/login").text

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
