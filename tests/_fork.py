"""Run a check in a forked child (for code that must behave after os.fork)."""
import os


def in_forked_child(check):
    """check() run in a forked child; returns the bytes it returned, or b'' if it raised.

    The child leaves with os._exit, so none of the parent's exit handlers (XLA's client among them) run there.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, check())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    return answer
