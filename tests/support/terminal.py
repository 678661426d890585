"""How a test starts a program that a person would stop with Ctrl-C.

A shell starts its foreground job with SIGINT's default action and no signal blocked. A test
process is not a shell: another test in the same worker may have left SIGINT ignored or
blocked (a disposition of SIG_IGN and the signal mask are inherited across ``exec``), and a
program started from it would then never see Ctrl-C. ``as_foreground_job`` gives the program
the state a shell would.
"""

import signal


def as_foreground_job() -> None:
    """``preexec_fn`` of ``subprocess.Popen``: SIGINT's default action, no signal blocked."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
