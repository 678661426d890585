"""How a test starts a program that a person would stop with Ctrl-C.

A shell starts its foreground job with SIGINT's default action and no signal blocked. A test
process is not a shell: another test in the same worker may have left SIGINT ignored or
blocked (a disposition of SIG_IGN and the signal mask are inherited across ``exec``), and a
program started from it would then never see Ctrl-C. ``as_foreground_job`` gives the program
the state a shell would.
"""

import signal
from pathlib import Path


def as_foreground_job() -> None:
    """``preexec_fn`` of ``subprocess.Popen``: SIGINT's default action, no signal blocked."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def signal_state(pid: int) -> str:
    """What process ``pid`` does with signals, per thread (for the message of a test whose
    program did not stop on Ctrl-C): its name, where it sleeps, and its blocked, ignored,
    caught and pending sets, as ``/proc`` gives them."""
    lines = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        try:
            status = (task / "status").read_text().splitlines()
            sleeps = (task / "wchan").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        sets = " ".join(ln.replace("\t", "") for ln in status if ln.startswith(("Sig", "ShdPnd")))
        lines.append(f"{task.name} {(task / 'comm').read_text().strip()} in {sleeps}: {sets}")
    return "; ".join(lines)
