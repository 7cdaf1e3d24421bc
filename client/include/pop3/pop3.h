/*
 * pop3/pop3.h - everything public in libpop3: the codec's headers and the client's.
 */
#ifndef POP3_POP3_H
#define POP3_POP3_H

#include "pop3/buf.h"
#include "pop3/client.h"
#include "pop3/command.h"
#include "pop3/digest.h"
#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/parse.h"
#include "pop3/transport.h"
#include "pop3/transport_memory.h"
#include "pop3/wire.h"

#endif
