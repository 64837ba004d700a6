"""Client-side pacing and the simulator's token bucket, with a fake clock."""

from smsgw.cmpp.ratelimit import Pacer, TokenBucket


def test_pacer_spaces_messages_after_the_burst():
    now = [100.0]
    pacer = Pacer(rate=10, burst=3, clock=lambda: now[0])

    delays = [pacer.reserve() for _ in range(6)]

    assert [round(d, 3) for d in delays] == [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3]


def test_pacer_keeps_the_long_run_rate_despite_late_wakeups():
    now = [0.0]
    pacer = Pacer(rate=200, clock=lambda: now[0])  # burst 10
    sent = 0
    while now[0] < 60:
        delay = pacer.reserve()
        now[0] += max(delay, 0) + 0.0007  # every wake-up is 0.7 ms late
        sent += 1

    assert 0.97 * 200 * 60 <= sent <= 200 * 60 + 10


def test_pacer_counts_a_group_submit_as_n():
    now = [0.0]
    pacer = Pacer(rate=10, burst=1, clock=lambda: now[0])

    pacer.reserve(5)

    assert round(pacer.reserve(), 3) == 0.5


def test_token_bucket_refuses_beyond_the_rate_without_taking_tokens():
    now = [0.0]
    bucket = TokenBucket(rate=2, clock=lambda: now[0])

    assert bucket.try_take(2)
    assert not bucket.try_take(1)
    now[0] = 0.5
    assert not bucket.try_take(2)  # only one token back; nothing taken
    assert bucket.try_take(1)
