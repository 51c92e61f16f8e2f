"""The site's small things: a favicon where browsers ask for it, and linked from every page."""


def test_the_favicon_is_served_where_browsers_ask_and_linked_from_the_pages(client) -> None:
    icon = client.http.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg") and icon.content == client.http.get("/static/favicon.svg").content
    login = client.http.get("/login")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login.text
