import os
import signal

import pytest

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
        raise Stop

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


def test_a_second_ctrl_c_stops_a_stuck_block_at_once():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("first held")
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("never")
    assert reached == ["first held"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_and_then_sigterm_still_wait_for_the_block(sigterm_stops):
    # A worker's job at a terminal: Ctrl-C reaches it, then the stopping worker's SIGTERM.
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
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
