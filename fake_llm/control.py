"""Admin API under /_control: script misbehaviours, set the default, read the request log.

Each scripted entry and the default is one behaviour ({"kind": ...}) or a list of them (a chain).
Every route is `async def` so it runs on the event loop, like the LLM routes that share this
state; a plain `def` would run in a worker thread and read the log while the loop appends to it.
"""

from typing import Any

from fastapi import APIRouter, Body, HTTPException

from fake_llm.behaviours import BadBehaviour, BehaviourChain, chain_from_json
from fake_llm.exchange import FakeLLMState

ChainJson = dict[str, Any] | list[dict[str, Any]]  # one behaviour, or a chain tried in order


def control_router(state: FakeLLMState) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.post("/script")
    async def script(behaviours: list[ChainJson] = Body(..., embed=True)) -> dict[str, Any]:
        state.schedule.script([_parsed(spec) for spec in behaviours])
        return _schedule_json(state)

    @router.post("/default")
    async def set_default(spec: ChainJson = Body(...)) -> dict[str, Any]:
        state.schedule.default = _parsed(spec)
        return _schedule_json(state)

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        state.schedule.reset()
        state.log.clear()
        state.cache.clear()
        return _schedule_json(state)

    @router.get("/state")
    async def schedule() -> dict[str, Any]:
        return _schedule_json(state)

    @router.get("/requests")
    async def requests(since: int = 0) -> dict[str, Any]:
        return state.log.page(since)

    return router


def _parsed(spec: ChainJson) -> BehaviourChain:
    try:
        return chain_from_json(spec)
    except BadBehaviour as problem:
        raise HTTPException(status_code=400, detail=str(problem)) from problem


def _schedule_json(state: FakeLLMState) -> dict[str, Any]:
    queued = [chain.as_json() for chain in state.schedule.queued()]
    return {"queued": queued, "default": state.schedule.default.as_json()}
