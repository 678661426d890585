"""The threaded server lifecycle of the scripted model servers: it lives in the package.

``missionctl demo coding`` serves a scripted model too, so the one implementation is
:mod:`missionctl.demo.threaded_server`; the test suite's servers import it from here.
"""

from missionctl.demo.threaded_server import RequestLog, ThreadedServer

__all__ = ["RequestLog", "ThreadedServer"]
