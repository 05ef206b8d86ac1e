import os
import signal
import time

import pytest

from paperfeed import interrupts
from paperfeed.interrupts import interrupts_deferred


@pytest.fixture(autouse=True)
def ctrl_c_as_at_a_terminal():
    # A suite started in the background inherits SIGINT ignored; a terminal gives Python's own.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


class Stop(Exception):
    """What the CLI's SIGTERM handler raises, here as a test's own."""


@pytest.fixture
def sigterm_stops():
    def stop(_signum, _frame):
        stop.calls += 1
        raise Stop

    stop.calls = 0
    before = signal.signal(signal.SIGTERM, stop)
    yield stop
    signal.signal(signal.SIGTERM, before)


def test_ctrl_c_inside_the_block_arrives_when_the_block_ends():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("the transaction committed")
    assert finished == ["the transaction committed"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_pressed_again_later_stops_a_stuck_block_at_once(monkeypatch, sigterm_stops):
    monkeypatch.setattr(interrupts, "INSIST_AFTER_S", 0.05)
    reached = []
    with pytest.raises(Stop):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("first held")
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("never")
    assert reached == ["first held"]
    assert sigterm_stops.calls == 1  # delivered once, not again as the block unwinds


def test_the_same_request_from_two_senders_still_waits_for_the_block(sigterm_stops):
    # systemd signals every process of a service, then the stopping worker signals its job;
    # at a terminal, Ctrl-C reaches the job and then the worker's SIGTERM does.
    for second in (signal.SIGTERM, signal.SIGINT):
        finished = []
        with pytest.raises(Stop):
            with interrupts_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), second)
                finished.append("the transaction committed")
        assert finished == ["the transaction committed"]


def test_sigterm_reaches_its_own_handler_after_the_block(sigterm_stops):
    with pytest.raises(Stop):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is sigterm_stops


def test_a_quiet_block_leaves_the_handlers_as_they_were():
    with interrupts_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
