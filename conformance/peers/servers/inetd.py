#!/usr/bin/env python3
"""inetd.py - a minimal inetd for one service: listen on 127.0.0.1:PORT and run a fresh
COMMAND per connection with the connection as its standard input and output (inetd's
"nowait" mode), for servers such as popa3d that are built to be started that way.

  inetd.py PORT COMMAND [ARG...]

Writes nothing but errors; exits on SIGTERM (children finish their sessions on their own).
TCPREMOTEIP and TCPREMOTEPORT (tcpserver's names) are set for the child.
"""

import os
import signal
import socket
import sys


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    port, command = int(argv[1]), argv[2:]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # no zombies
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            conn, peer = srv.accept()
        except InterruptedError:
            continue
        pid = os.fork()
        if pid == 0:
            try:
                srv.close()
                os.dup2(conn.fileno(), 0)
                os.dup2(conn.fileno(), 1)
                conn.close()
                os.environ["TCPREMOTEIP"], os.environ["TCPREMOTEPORT"] = peer[0], str(peer[1])
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.execvp(command[0], command)
            except OSError as e:
                print("inetd.py: %s: %s" % (command[0], e), file=sys.stderr)
            os._exit(127)
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
