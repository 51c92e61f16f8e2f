"""Admin API under /_control: script misbehaviours, set the default, read the request log.

Each scripted entry and the default is one behaviour ({"kind": ...}) or a list of them (a chain).
"""

from typing import Any

from fastapi import APIRouter, Body, HTTPException

from fake_llm.behaviours import BadBehaviour, BehaviourChain, chain_from_json
from fake_llm.exchange import FakeLLMState

ChainJson = dict[str, Any] | list[dict[str, Any]]  # one behaviour, or a chain tried in order


def control_router(state: FakeLLMState) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.post("/script")
    def script(behaviours: list[ChainJson] = Body(..., embed=True)) -> dict[str, Any]:
        state.schedule.script([_parsed(spec) for spec in behaviours])
        return _schedule_json(state)

    @router.post("/default")
    def set_default(spec: ChainJson = Body(...)) -> dict[str, Any]:
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


def _parsed(spec: ChainJson) -> BehaviourChain:
    try:
        return chain_from_json(spec)
    except BadBehaviour as problem:
        raise HTTPException(status_code=400, detail=str(problem)) from problem


def _schedule_json(state: FakeLLMState) -> dict[str, Any]:
    queued = [chain.as_json() for chain in state.schedule.queued()]
    return {"queued": queued, "default": state.schedule.default.as_json()}
