"""Bad input gets a clear 4xx and changes nothing."""

import pytest

VALID = {"mode": "generate", "title": "T", "instructions": "Write about tides.", "target_words": 100}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_words": 0}, "target_words"),
        ({"target_words": -5}, "target_words"),
        ({"target_words": 500_001}, "target_words"),
        ({"target_words": 10.5}, "target_words"),
        ({"target_words": "100"}, "target_words"),
        ({"instructions": "   "}, "instructions"),
        ({"mode": "poem"}, "mode"),
        ({"instructions": "nul \x00 here"}, "instructions"),
    ],
)
def test_invalid_job_is_rejected_with_422_naming_the_field(client, change, field) -> None:
    before = client.http.get("/v1/jobs").json()["jobs"]
    response = client.http.post("/v1/jobs", json=VALID | change)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert client.http.get("/v1/jobs").json()["jobs"] == before


def test_missing_target_words_is_rejected(client) -> None:
    body = {k: v for k, v in VALID.items() if k != "target_words"}
    response = client.http.post("/v1/jobs", json=body)
    assert response.status_code == 422
    assert "target_words" in response.text


def test_malformed_json_is_rejected_with_422(client) -> None:
    response = client.http.post("/v1/jobs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_text_with_sql_and_html_is_stored_verbatim(client) -> None:
    title = "Robert'); DROP TABLE gateway.jobs;-- <script>alert(1)</script>"
    job_id = client.submit(10, title=title)
    assert client.job(job_id)["title"] == title
