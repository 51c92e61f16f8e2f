"""Every prompt and reply one click away (issue 18): GET /v1/jobs/{id}/llm-calls/{seq} shows the
call whose `llm.call` event stands at that seq of the job's log, whole, with what was cut and
what was decided; to the job's owner only."""

import pytest

from contracts.wordcount import count_words


def _calls(client, job_id: str) -> list[dict]:
    return [e for e in client.audit(job_id) if e["type"] == "llm.call"]


def test_each_llm_line_opens_its_full_prompt_reply_and_decision(client, query) -> None:
    job_id = client.submit(1200, title="Tides", model="fake/chatty:preamble=1,closing=1,echo=0,template=0,label=0,heading=0")
    assert client.wait(job_id)["status"] == "completed"
    events = _calls(client, job_id)
    assert {e["data"]["attributes"]["longform.purpose"] for e in events} >= {"outline", "write"}
    for event in events:
        response = client.http.get(f"/v1/jobs/{job_id}/llm-calls/{event['seq']}")
        assert response.status_code == 200, response.text
        call = response.json()
        service, _, call_id = event["data"]["attributes"]["longform.stored_as"].partition(".llm_calls/")
        [row] = query(f"SELECT * FROM {service}.llm_calls WHERE id = $1", int(call_id))
        assert (call["service"], call["prompt"], call["system_prompt"], call["reply"]) == (
            service, row["prompt"], row["system_prompt"], row["response"])
        assert call["input_tokens"] == row["input_tokens"] and call["words"] == count_words(row["response"])
        assert call["decision"] == ("kept" if row["kept"] else f"rejected: {row['error']}")
    written = next(c for c in (client.http.get(f"/v1/jobs/{job_id}/llm-calls/{e['seq']}").json() for e in events)
                   if c["purpose"] == "write")
    assert written["cut"] and written["cut_words"] > 0 and written["cut"].split(" | ")[0] in written["reply"]


def test_a_seq_that_is_not_an_llm_call_is_a_404_saying_so(client) -> None:
    job_id = client.submit(20)
    assert client.wait(job_id)["status"] == "completed"
    first = client.audit(job_id)[0]
    assert first["type"] != "llm.call"
    for seq in (first["seq"], 10**9):
        response = client.http.get(f"/v1/jobs/{job_id}/llm-calls/{seq}")
        assert response.status_code == 404 and f"no LLM call at seq {seq}" in response.json()["detail"]
    assert client.http.get(f"/v1/jobs/{job_id}/llm-calls/0").status_code == 422


def test_another_users_call_is_not_found(stack, client) -> None:
    job_id = client.submit(20)
    assert client.wait(job_id)["status"] == "completed"
    seq = _calls(client, job_id)[0]["seq"]
    other = stack.client()
    try:
        response = other.http.get(f"/v1/jobs/{job_id}/llm-calls/{seq}")
        assert response.status_code == 404 and response.json()["detail"] == "job not found"
    finally:
        other.close()


@pytest.mark.parametrize("seq", ["x", "-1", "1.5"])
def test_a_seq_that_is_not_a_whole_number_is_refused(client, seq) -> None:
    job_id = client.submit(20)
    assert client.http.get(f"/v1/jobs/{job_id}/llm-calls/{seq}").status_code == 422
