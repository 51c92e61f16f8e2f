"""job.resumed says why the job is writing again; events stored before it did still read."""

import pydantic
import pytest

from contracts.messages import JobResumed


def test_a_job_resumed_recorded_before_reasons_were_kept_still_reads():
    old = JobResumed.model_validate({"chunks_reset": 2})
    assert (old.reason, old.consumer) == (None, None)


@pytest.mark.parametrize("reason", ["crash_recovery", "user"])
def test_a_job_resumed_round_trips_its_reason(reason):
    resumed = JobResumed(chunks_reset=0, reason=reason, consumer="planner-job-resume_requested")
    assert JobResumed.model_validate(resumed.model_dump(mode="json")) == resumed


def test_a_reason_outside_the_known_ones_is_refused():
    with pytest.raises(pydantic.ValidationError):
        JobResumed(chunks_reset=0, reason="boredom")
