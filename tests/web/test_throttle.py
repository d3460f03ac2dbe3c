# SPDX-License-Identifier: AGPL-3.0-or-later
"""The throttle's counter: one number per attempt from one statement, windows, clean-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.utils import timezone

from encaisse.core import periodic
from encaisse.web import throttle
from encaisse.web.models import ThrottleCounter

pytestmark = pytest.mark.django_db

LIMIT = throttle.Limit("tests:scope", "ENCAISSE_TESTS_NO_SUCH_SETTING", 3)


def _end_windows() -> None:
    """Move time past every window: the counters' ends in the past."""
    ThrottleCounter.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_each_attempt_gets_the_next_number_in_one_window(settings):
    settings.ENCAISSE_LOGIN_LOCKOUT_MINUTES = 15
    before = timezone.now()

    numbers = [throttle.count(LIMIT, "k") for _ in range(3)]

    assert [attempts for attempts, _ in numbers] == [1, 2, 3]
    ends = {end for _, end in numbers}
    assert len(ends) == 1  # the window started at the first attempt and does not move
    [end] = ends
    assert before + dt.timedelta(minutes=15) <= end <= timezone.now() + dt.timedelta(minutes=15)
    assert ThrottleCounter.objects.get(scope="tests:scope", key="k").attempts == 3


def test_keys_and_scopes_count_apart():
    throttle.count(LIMIT, "a")
    other = throttle.Limit("tests:other", "ENCAISSE_TESTS_NO_SUCH_SETTING", 3)

    assert throttle.count(LIMIT, "b")[0] == 1
    assert throttle.count(other, "a")[0] == 1
    assert throttle.count(LIMIT, "a")[0] == 2


def test_the_first_attempt_after_the_window_starts_a_new_one():
    throttle.count(LIMIT, "k")
    throttle.count(LIMIT, "k")
    _end_windows()

    attempts, end = throttle.count(LIMIT, "k")

    assert attempts == 1
    assert end > timezone.now()
    assert ThrottleCounter.objects.filter(key="k").count() == 1  # the same row, restarted


def test_admit_refuses_over_the_limit_until_the_window_ends():
    for _ in range(3):
        throttle.admit((LIMIT, "k"))

    with pytest.raises(throttle.Throttled) as refused:
        throttle.admit((LIMIT, "k"))

    assert refused.value.limit is LIMIT
    assert refused.value.until > timezone.now()
    _end_windows()
    throttle.admit((LIMIT, "k"))


def test_admit_stops_at_the_first_limit_reached_and_skips_missing_keys():
    strict = throttle.Limit("tests:strict", "ENCAISSE_TESTS_NO_SUCH_SETTING", 0)

    with pytest.raises(throttle.Throttled):
        throttle.admit((LIMIT, None), (strict, "k"), (LIMIT, "k"))

    assert not ThrottleCounter.objects.filter(scope=LIMIT.scope).exists()


def test_the_limit_is_read_from_its_setting(settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 7
    assert throttle.SIGN_IN_LOGIN.maximum == 7
    assert LIMIT.maximum == 3  # no such setting: the default


def test_minutes_left_are_rounded_up_and_at_least_one():
    now = timezone.now()
    assert throttle.Throttled(LIMIT, now + dt.timedelta(minutes=14, seconds=1)).minutes_left() == 15
    assert throttle.Throttled(LIMIT, now - dt.timedelta(seconds=5)).minutes_left() == 1


def test_a_sign_in_forgets_the_login_and_gives_back_the_clients_attempt():
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    for _ in range(2):
        throttle.admit_sign_in("Alice@Example.org", request)

    throttle.signed_in("alice@example.org", request)

    assert not ThrottleCounter.objects.filter(scope="sign-in:login").exists()
    assert ThrottleCounter.objects.get(scope="sign-in:client", key="192.0.2.1").attempts == 1


def test_keys_ignore_case_spaces_and_control_characters():
    assert throttle.normalise(" Alice@Example.ORG\x00\n") == "alice@example.org"
    assert len(throttle.normalise("x" * 1000)) == 254
    throttle.admit_sign_in("bob\x00@example.org", None)  # PostgreSQL refuses NUL in text
    assert ThrottleCounter.objects.get(scope="sign-in:login").key == "bob@example.org"


def test_the_clean_up_removes_ended_windows_only():
    throttle.count(LIMIT, "old")
    _end_windows()
    throttle.count(LIMIT, "current")

    assert throttle.purge_expired() == 1
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["current"]
    assert throttle.purge_expired() == 0


def test_the_clean_up_is_a_periodic_job_of_the_worker():
    job = periodic.jobs.get("web.purge_throttle_counters")
    throttle.count(LIMIT, "old")
    _end_windows()

    assert periodic.run_job(job) == 1
