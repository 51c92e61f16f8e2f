"""The one retry policy (services/common/retry.py): the first retry waits `first`, each next one
twice as long up to `cap`, spread by ±jitter; a server's Retry-After wins, within its bound."""

from hypothesis import given, settings, strategies as st

from services.common.retry import MAX_RETRY_AFTER_SECONDS, OUTAGE, PROVIDER, REDELIVERY, RESTART, Backoff

_PROPERTY = settings(max_examples=300, deadline=None, database=None)
attempts = st.integers(1, 10_000)


def test_the_wait_doubles_from_the_first_and_stops_at_the_cap() -> None:
    policy = Backoff(first=0.5, cap=5.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_failed_message_comes_back_after_one_two_four_seconds_and_at_most_thirty() -> None:
    assert [REDELIVERY.delay(delivered) for delivered in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_attempt_zero_or_below_waits_as_the_first_retry() -> None:
    assert Backoff(first=0.2, cap=5.0).delay(0) == Backoff(first=0.2, cap=5.0).delay(-3) == 0.2


@_PROPERTY
@given(attempts)
def test_a_very_late_retry_waits_the_cap_and_does_not_overflow(attempt) -> None:
    assert RESTART.delay(attempt) <= RESTART.cap
    assert RESTART.delay(attempt + 10_000) == RESTART.cap


@_PROPERTY
@given(attempts, st.sampled_from([PROVIDER, OUTAGE]))
def test_jitter_spreads_each_wait_within_its_fraction(attempt, policy) -> None:
    exact = Backoff(policy.first, policy.cap).delay(attempt)
    assert exact * (1 - policy.jitter) <= policy.delay(attempt) <= exact * (1 + policy.jitter)


def test_jitter_spreads_waits_apart() -> None:
    """Replicas that failed together do not all retry at the same moment."""
    assert len({PROVIDER.delay(3) for _ in range(20)}) > 1


@_PROPERTY
@given(attempts, st.floats(0, 10_000, allow_nan=False))
def test_a_providers_retry_after_is_waited_as_asked_up_to_its_bound(attempt, retry_after) -> None:
    assert PROVIDER.delay(attempt, retry_after) == min(retry_after, MAX_RETRY_AFTER_SECONDS)


def test_a_negative_retry_after_is_no_wait() -> None:
    assert PROVIDER.delay(1, retry_after=-5.0) == 0.0
