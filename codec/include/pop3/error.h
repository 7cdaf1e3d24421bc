/*
 * pop3/error.h - the one error space of pop3kit.
 *
 * Every public function returns a status from this list (errors as values, as in
 * hiredis and BearSSL). The list is written once, as an X-macro, so the enum, the
 * names and the messages cannot drift apart (the libuv habit).
 */
#ifndef POP3_ERROR_H
#define POP3_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message) */
#define POP3_ERROR_LIST(X)                          \
    X(OK, 0, "success")                             \
    X(ESERVER, -1, "server replied -ERR")           \
    X(EPROTO, -2, "protocol violation")             \
    X(EIO, -3, "input/output error")                \
    X(ETLS, -4, "TLS error")                        \
    X(ETIMEOUT, -5, "timed out")                    \
    X(ELIMIT, -6, "limit exceeded")                 \
    X(EUSAGE, -7, "invalid argument")               \
    X(ESTATE, -8, "not valid in the current state") \
    X(ENOMEM, -9, "out of memory")                  \
    X(ECLOSED, -10, "connection closed by peer")

typedef enum pop3_error {
#define POP3__ERROR_ENUM(name, value, message) POP3_##name = (value),
    POP3_ERROR_LIST(POP3__ERROR_ENUM)
#undef POP3__ERROR_ENUM
} pop3_error;

/*
 * pop3_strerror - a one-line English description of an error code.
 * Returns a static string; unknown codes give "unknown error".
 */
const char *pop3_strerror(int error);

/*
 * pop3_errname - the symbolic name of an error code without its prefix ("EPROTO").
 * Returns a static string; unknown codes give "UNKNOWN".
 */
const char *pop3_errname(int error);

#ifdef __cplusplus
}
#endif
#endif
