"""The websocket's message allowance: a token bucket, pure (the time is passed in)."""

from app.realtime.rate import TokenBucket


def test_a_burst_is_allowed_then_refused():
    bucket = TokenBucket(rate=10, burst=20)
    assert all(bucket.take(100.0) for _ in range(20))
    assert not bucket.take(100.0)


def test_tokens_come_back_at_the_rate_and_no_more_than_the_burst():
    bucket = TokenBucket(rate=10, burst=20)
    for _ in range(20):
        bucket.take(0.0)
    assert not bucket.take(0.05)  # half a token back
    assert bucket.take(0.1)  # one whole token
    assert not bucket.take(0.1)
    # A long quiet spell refills to the burst, not beyond.
    assert sum(bucket.take(3600.0) for _ in range(50)) == 20


def test_a_steady_rate_within_the_allowance_is_never_refused():
    bucket = TokenBucket(rate=10, burst=20)
    assert all(bucket.take(i * 0.1) for i in range(1000))
