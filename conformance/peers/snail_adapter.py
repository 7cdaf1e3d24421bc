#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""snail_adapter.py - s-nail, the mail reader (BSD Mail lineage), under pop3-conform's
adapter contract.

s-nail opens a POP3 mailbox (RFC 1939) as a folder: USER and PASS, STAT, LIST of each
message, then, told to load whole messages (pop3-bulk-load), RETR of each; QUIT when the
folder is closed. It is driven in batch mode (-#): its commands come on standard input,
one `copy N maildir://...` per message, which stores the message in a Maildir, then
`quit`. Its -vv trace shows each command sent (">>> ") and the status lines received
(">>> SERVER: "); the shared half (delivery.py) matches a case against that session and
reads the trace and the Maildir. Implicit TLS (RFC 8314) is a pop3s:// folder with the
case's certificate as the only trusted one; its STLS (pop3-use-starttls) runs before the
login and is not driven here. The password goes into a resource file, never onto a
command line.
"""
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery  # noqa: E402


def quoted(v):
    """A value in s-nail's shell-like quoting: single quotes, a quote itself as '\\''."""
    return "'" + v.replace("'", "'\\''") + "'"


class Snail(delivery.Client):
    name = "s-nail"
    trace = True
    count = 0

    def sequence(self, n):
        self.count = n  # the session to run: one copy per message the case retrieves
        return ([["stat"]] + [["list", str(k)] for k in range(1, n + 1)]
                + [["retr", str(k)] for k in range(1, n + 1)] + [["quit"]])

    def run(self, s, maildir, work):
        if s.server_name:
            raise delivery.NA("s-nail checks the certificate against the host it connects to only")
        user = urllib.parse.quote(s.user, safe="")
        where = "%s@%s:%s" % (user, s.host, s.port)
        rc = ["set v15-compat", "set pop3-bulk-load", "set pop3-no-apop",
              "set password-%s=%s" % (where, quoted(s.password))]
        if s.tls:
            if s.insecure:
                rc.append("set tls-verify=ignore")
            else:
                rc += ["set tls-verify=strict", "set tls-ca-no-defaults",
                       "set tls-ca-file=%s" % quoted(s.cafile)]
        path = os.path.join(work, "mailrc")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(rc) + "\n")
        os.chmod(path, 0o600)
        commands = "".join("copy %d maildir://%s\n" % (k, maildir)
                           for k in range(1, self.count + 1)) + "quit\n"
        folder = "%s://%s" % ("pop3s" if s.tls else "pop3", where)
        argv = ["s-nail", "-vv", "-#", "-n", "-f", folder]
        env = dict(os.environ, HOME=work, MAILRC=path)
        rc, output = delivery.run_program(argv, s, env=env, stdin=commands.encode())
        # -vv prints the password three times (the resource file's "set password-...",
        # "Credentials: ..., pass P" and ">>> PASS P"): what the adapter passes on has none
        output = re.sub(r"(COMMAND <set> password-[^=]*=).*", r"\1****", output)
        output = re.sub(r"(Credentials: .*, pass ).*", r"\1****", output)
        return rc, re.sub(r"(>>> PASS ).*", r"\1****", output)

    def parse_trace(self, output):
        # ">>> SERVER: line" is received; any other ">>> line" was sent
        ex = delivery.trace_exchanges(output, r"s-nail: >>> (SERVER: )?(.*)$", None)
        # s-nail refuses a reply it cannot read ("Invalid POP3 STAT response: ...") right
        # after its trace line: that reply was a protocol error to it, whatever it began with
        refused = re.search(r"^s-nail: (Invalid POP3 [^\n]*)", output, re.M)
        if refused and len(ex) > 1 and ex[-1][1]:
            ex[-1][1][0] = "(%s)" % refused.group(1)
        return ex

    def strip_added(self, msg):
        # a Maildir copy ends with the blank line s-nail's mbox heritage puts after
        # every message; one LF is s-nail's, the rest is the message's
        return msg[:-1] if msg.endswith(b"\n") else msg


if __name__ == "__main__":
    delivery.main(Snail())
