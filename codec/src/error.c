/*
 * error.c - names and messages of the pop3kit error space (pop3/error.h).
 */
#include "pop3/error.h"

const char *pop3_strerror(int error)
{
    switch (error) {
#define POP3__ERROR_MESSAGE(name, value, message) \
    case (value): return (message);
        POP3_ERROR_LIST(POP3__ERROR_MESSAGE)
#undef POP3__ERROR_MESSAGE
    }
    return "unknown error";
}

const char *pop3_errname(int error)
{
    switch (error) {
#define POP3__ERROR_NAME(name, value, message) \
    case (value): return #name;
        POP3_ERROR_LIST(POP3__ERROR_NAME)
#undef POP3__ERROR_NAME
    }
    return "UNKNOWN";
}
