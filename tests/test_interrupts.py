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


def test_sigterm_reaches_its_own_handler_after_the_block():
    class Stop(Exception):
        pass

    def stop(_signum, _frame):
        raise Stop

    before = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stop):
            with interrupts_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_quiet_block_leaves_the_handlers_as_they_were():
    with interrupts_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
