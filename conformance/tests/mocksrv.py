"""mocksrv.py - pop3-mock for the conformance tests: started, its port learnt, stopped.

The work is done by the project's own test fixture (fixtures/pytest/pop3mock_fixture.py,
the module users import or load as a pytest plugin), so that the probe tests exercise it
and it cannot rot: the mock listens on 127.0.0.1 port 0 and the fixture learns the port
from --port-file (or the ready line); SIGTERM ends it and a mock that dies or fails is an
error, with what it printed.

The tests run as "python3 conformance/tests/NAME.py", so Python finds this module beside
them; the fixture's folder is found from this file's own place in the tree.
"""
import contextlib
import os
import socket
import sys

_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                         "fixtures", "pytest")
if os.path.normpath(_FIXTURES) not in map(os.path.normpath, sys.path):
    sys.path.insert(0, os.path.normpath(_FIXTURES))

import pop3mock_fixture  # noqa: E402  (the path above first)

# A probe waits for the server between its checks; the mock must not end the session
# under it (pop3-mock's default idle timeout is the RFC's 10 minutes, the tests' runs are
# shorter, but a slow CI machine must not make the mock's choice matter).
IDLE_TIMEOUT = "60"


@contextlib.contextmanager
def maildrop(binary, messages, user, password, args=(), quirks=()):
    """A pop3-mock --maildrop serving `messages` (a dict of file name to text or bytes,
    kept in name order) to `user`/`password`, with --quirk for each of `quirks` and more
    options in `args`. Yields the running mock (.host, .port); on leaving, the mock is
    stopped and must have ended cleanly (pop3mock_fixture.Pop3MockFailed otherwise)."""
    mock = pop3mock_fixture.maildrop(messages, user=user, password=password, quirks=quirks,
                                     args=["--idle-timeout", IDLE_TIMEOUT] + list(args),
                                     binary=binary)
    with mock:
        yield mock


def free_port():
    """A loopback port nothing listens on (as long as nobody takes it meanwhile)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
