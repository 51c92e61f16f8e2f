"""Sign-up: open by default on the local stack, and an operator can turn it off."""

from fastapi.testclient import TestClient

from services.gateway.config import GatewaySettings
from services.gateway.main import create_app


def test_open_sign_up_returns_an_id_and_a_token_that_works(client) -> None:
    response = client.http.post("/v1/users", json={"name": "someone"}, headers={"Authorization": ""})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token"} and len(body["token"]) >= 32
    listed = client.http.get("/v1/jobs", headers={"Authorization": f"Bearer {body['token']}"})
    assert listed.status_code == 200 and listed.json()["jobs"] == []


def test_sign_up_can_be_turned_off(stack) -> None:
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, open_signup=False)
    with TestClient(create_app(settings)) as gateway:
        response = gateway.post("/v1/users", json={"name": "nobody"})
    assert response.status_code == 403
    assert "sign-up is turned off" in response.json()["detail"]
