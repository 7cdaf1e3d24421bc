"""curl_lib.py - libcurl's POP3 client through ctypes, one easy handle per session.

The curl command line runs one transfer per URL; libcurl keeps the connection of an easy
handle between transfers, so a program that reuses one handle talks to a POP3 server in
one session (RFC 1939 section 3): the first transfer connects and does the AUTHORIZATION
state (greeting, CAPA, STLS of RFC 2595 with CURLOPT_USE_SSL, USER/PASS, APOP or AUTH of
RFC 5034 with CURLOPT_LOGIN_OPTIONS), every transfer sends one TRANSACTION command (the
URL's message number, CURLOPT_CUSTOMREQUEST, CURLOPT_DIRLISTONLY, CURLOPT_NOBODY), and
cleaning the handle up sends QUIT (RFC 1939 section 6). CURLOPT_CONNECT_ONLY stops after
the AUTHORIZATION state. CURLOPT_DEBUGFUNCTION hands over the wire: every command sent,
every status or listing line received, every body octet.

This binds the Debian package libcurl4 (libcurl.so.4, the library the curl command runs
on); nothing else is loaded. Only what a POP3 session needs is bound.
"""
import ctypes
import select
import time

# curl.h (7.88): option numbers are a type base plus an index
_LONG, _POINT, _FUNC = 0, 10000, 20000
OPT = {
    "WRITEDATA": _POINT + 1, "URL": _POINT + 2, "ERRORBUFFER": _POINT + 10,
    "WRITEFUNCTION": _FUNC + 11, "CUSTOMREQUEST": _POINT + 36, "VERBOSE": _LONG + 41,
    "NOBODY": _LONG + 44, "DIRLISTONLY": _LONG + 48, "SSL_VERIFYPEER": _LONG + 64,
    "CAINFO": _POINT + 65, "FORBID_REUSE": _LONG + 75, "SSL_VERIFYHOST": _LONG + 81,
    "DEBUGFUNCTION": _FUNC + 94, "NOSIGNAL": _LONG + 99,
    "SERVER_RESPONSE_TIMEOUT": _LONG + 112, "USE_SSL": _LONG + 119,
    "CONNECT_ONLY": _LONG + 141, "TIMEOUT_MS": _LONG + 155,
    "CONNECTTIMEOUT_MS": _LONG + 156, "USERNAME": _POINT + 173, "PASSWORD": _POINT + 174,
    "RESOLVE": _POINT + 203, "XOAUTH2_BEARER": _POINT + 220, "LOGIN_OPTIONS": _POINT + 224,
    "SASL_IR": _LONG + 218, "SASL_AUTHZID": _POINT + 289,
}
USESSL_ALL = 3
INFO_TEXT, HEADER_IN, HEADER_OUT, DATA_IN = 0, 1, 2, 3
GLOBAL_ALL = 3
AGAIN = 81
INFO_ACTIVESOCKET = 0x500000 + 44
INFO_LASTSOCKET = 0x200000 + 29

_DEBUG = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                          ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.c_void_p)
_WRITE = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
                          ctypes.c_size_t, ctypes.c_void_p)


_loaded = []


def load():
    """(libcurl, None), or (None, the reason): the library file that could not be opened.
    The library is opened and initialised once per process."""
    if _loaded:
        return _loaded[0]
    name = "libcurl.so.4"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        return None, "%s (Debian package libcurl4): %s" % (name, e)
    lib.curl_easy_init.restype = ctypes.c_void_p
    lib.curl_easy_setopt.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.curl_easy_setopt.restype = ctypes.c_int
    lib.curl_easy_perform.argtypes = [ctypes.c_void_p]
    lib.curl_easy_perform.restype = ctypes.c_int
    lib.curl_easy_cleanup.argtypes = [ctypes.c_void_p]
    lib.curl_easy_strerror.argtypes = [ctypes.c_int]
    lib.curl_easy_strerror.restype = ctypes.c_char_p
    lib.curl_version.restype = ctypes.c_char_p
    lib.curl_slist_append.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.curl_slist_append.restype = ctypes.c_void_p
    lib.curl_slist_free_all.argtypes = [ctypes.c_void_p]
    lib.curl_easy_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                   ctypes.POINTER(ctypes.c_size_t)]
    lib.curl_easy_recv.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                   ctypes.POINTER(ctypes.c_size_t)]
    lib.curl_easy_getinfo.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.curl_global_init(ctypes.c_long(GLOBAL_ALL))
    _loaded.append((lib, None))
    return lib, None


class Session:
    """One easy handle: its options, the transfers run on it and the wire they made.

    wire is a list of (kind, bytes) in the order libcurl reported them: HEADER_OUT for a
    command sent (with its CRLF), HEADER_IN for a status or CAPA line received, DATA_IN for
    body octets, INFO_TEXT for libcurl's own notes ("Connected to", "SSL connection")."""

    def __init__(self, lib):
        self.lib = lib
        self.h = lib.curl_easy_init()
        self.wire = []
        self.body = bytearray()
        self._keep = []  # every buffer and callback libcurl holds a pointer to
        self._slists = []
        self._err = ctypes.create_string_buffer(256)
        self._debug = _DEBUG(self._on_debug)
        self._write = _WRITE(self._on_write)
        self.set("DEBUGFUNCTION", self._debug)
        self.set("WRITEFUNCTION", self._write)
        self.set("VERBOSE", 1)
        self.set("NOSIGNAL", 1)
        self.set("ERRORBUFFER", self._err)

    def _on_debug(self, handle, kind, data, size, user):
        self.wire.append((kind, ctypes.string_at(data, size)))
        return 0

    def _on_write(self, data, size, n, user):
        self.body += ctypes.string_at(data, size * n)
        return size * n

    def set(self, name, value):
        """Set an option; a str is passed as a C string (libcurl copies strings), None
        clears a string option."""
        opt = OPT[name]
        if value is None:
            arg = ctypes.c_void_p(None)
        elif isinstance(value, (str, bytes)):
            arg = ctypes.c_char_p(value.encode("utf-8", "surrogateescape")
                                  if isinstance(value, str) else value)
            self._keep.append(arg)
        elif isinstance(value, int):
            arg = ctypes.c_long(value)
        else:
            arg = value
            self._keep.append(arg)
        rc = self.lib.curl_easy_setopt(self.h, opt, arg)
        if rc:
            raise ValueError("curl_easy_setopt %s: %s" % (name, self.strerror(rc)))

    def set_list(self, name, items):
        sl = None
        for item in items:
            sl = self.lib.curl_slist_append(sl, item.encode())
        self._slists.append(sl)
        self.set(name, ctypes.c_void_p(sl))

    def perform(self):
        """One transfer; its body is self.body (cleared first). Returns the CURLcode and
        libcurl's message."""
        self.body = bytearray()
        self._err.value = b""
        rc = self.lib.curl_easy_perform(self.h)
        return rc, (self._err.value.decode("latin-1") or self.strerror(rc))

    def socket(self):
        """The socket of a CURLOPT_CONNECT_ONLY connection (CURLINFO_ACTIVESOCKET), or -1."""
        fd = ctypes.c_int(-1)
        self.lib.curl_easy_getinfo(self.h, INFO_ACTIVESOCKET, ctypes.byref(fd))
        return fd.value

    def last_socket(self):
        """The socket of the connection the last transfer left open (CURLINFO_LASTSOCKET,
        which libcurl answers for a connection it keeps), or -1."""
        fd = ctypes.c_long(-1)
        if self.h:
            self.lib.curl_easy_getinfo(self.h, INFO_LASTSOCKET, ctypes.byref(fd))
        return fd.value

    def send(self, data):
        """curl_easy_send on a CONNECT_ONLY connection (through its TLS when there is one):
        the CURLcode; the whole of data is sent or the code says why not."""
        sent = ctypes.c_size_t(0)
        while data:
            rc = self.lib.curl_easy_send(self.h, data, len(data), ctypes.byref(sent))
            if rc == AGAIN:
                select.select([], [self.socket()], [], 1.0)
                continue
            if rc:
                return rc
            self.wire.append((HEADER_OUT, data[:sent.value]))
            data = data[sent.value:]
        return 0

    def recv_line(self, timeout):
        """One line from a CONNECT_ONLY connection with curl_easy_recv: (CURLcode, line);
        a line cut short by the end of the connection or by the timeout comes with its
        code (CURLE_GOT_NOTHING 52 for the end, CURLE_OPERATION_TIMEDOUT 28)."""
        buf, one, got = bytearray(), ctypes.create_string_buffer(1), ctypes.c_size_t(0)
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            rc = self.lib.curl_easy_recv(self.h, one, 1, ctypes.byref(got))
            if rc == AGAIN:
                left = deadline - time.monotonic()
                if left <= 0:
                    return 28, bytes(buf)
                select.select([self.socket()], [], [], left)
                continue
            if rc:
                return rc, bytes(buf)
            if got.value == 0:
                return 52, bytes(buf)
            buf += one.raw
        self.wire.append((HEADER_IN, bytes(buf)))
        return 0, bytes(buf)

    def strerror(self, rc):
        return self.lib.curl_easy_strerror(rc).decode("latin-1")

    def cleanup(self):
        """Free the handle: libcurl ends a connection still open with QUIT."""
        if self.h:
            self.lib.curl_easy_cleanup(self.h)
            self.h = None
        for sl in self._slists:
            self.lib.curl_slist_free_all(sl)
        self._slists = []
