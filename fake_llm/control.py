"""Admin API under /_control: script misbehaviours, set the default, read the request log."""

from typing import Any

from fastapi import APIRouter, Body, HTTPException

from fake_llm.behaviours import BadBehaviour, Behaviour, behaviour_from_json
from fake_llm.exchange import FakeLLMState


def control_router(state: FakeLLMState) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.post("/script")
    def script(behaviours: list[dict[str, Any]] = Body(..., embed=True)) -> dict[str, Any]:
        state.schedule.script([_parsed(spec) for spec in behaviours])
        return _schedule_json(state)

    @router.post("/default")
    def set_default(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        state.schedule.default = _parsed(spec)
        return _schedule_json(state)

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        state.schedule.reset()
        state.log.clear()
        return _schedule_json(state)

    @router.get("/state")
    def schedule() -> dict[str, Any]:
        return _schedule_json(state)

    @router.get("/requests")
    def requests(since: int = 0) -> dict[str, Any]:
        return {"requests": state.log.since(since), "next": state.log.recorded}

    return router


def _parsed(spec: dict[str, Any]) -> Behaviour:
    try:
        return behaviour_from_json(spec)
    except BadBehaviour as problem:
        raise HTTPException(status_code=400, detail=str(problem)) from problem


def _schedule_json(state: FakeLLMState) -> dict[str, Any]:
    queued = [behaviour.as_json() for behaviour in state.schedule.queued()]
    return {"queued": queued, "default": state.schedule.default.as_json()}
