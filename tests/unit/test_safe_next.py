"""After sign-in the page goes to `next` only when it is a path on this site (SECURITY: redirects
stay home). The bypasses are the known ones for open redirects: each would send a browser to
another host, or to a script, if it passed."""

import pytest

from services.gateway.pages import safe_next

BYPASSES = [
    "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r/evil.example", "/ /evil.example", "\t//evil.example", " /evil.example", "/%2F/evil.example",
    "/%2fevil.example", "/%5Cevil.example", "/%09/evil.example", "%2F%2Fevil.example",
    "https://evil.example", "http:evil.example", "javascript:alert(1)", "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "evil.example", "", "/\uff0f/evil.example",
    "/\u2215evil.example", "/\u2044evil.example", "/\u3000/evil.example", "/\x00/evil.example",
    "/\x7f/evil.example", "/\u200b/evil.example", "/.\\evil.example",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_a_target_that_could_leave_the_site_becomes_the_home_page(target) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/jobs", "/jobs/0b6e8c1e-4f6a-4d8e-9d1e-3c8f2a7b9e10",
                                    "/jobs?page=2&status=completed", "/new#form", "/a/b/c-d_e.f~g"])
def test_a_path_on_this_site_is_kept(target) -> None:
    assert safe_next(target) == target
