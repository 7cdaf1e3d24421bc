/*
 * chunking.h - test support: run the response decoder over an input split in a chosen
 * way and render every event as one line of a transcript, so that tests can compare
 * transcripts across chunkings (whole, split at every offset, one octet at a time).
 */
#ifndef POP3_TEST_CHUNKING_H
#define POP3_TEST_CHUNKING_H

#include <stddef.h>

#include "pop3/wire.h"

/*
 * Decode `in` given as chunks ending at the offsets `cuts` (ascending, each < len; the
 * last chunk ends at len). Each chunk is copied into a heap block of exactly its size so
 * that AddressSanitizer catches any read past a chunk. Expectations are taken from
 * `expects` in turn whenever the decoder is idle and input remains; the end of input is
 * reported with pop3_decode_eof. Consecutive DATA events are merged.
 * Transcript lines:
 *   STATUS OK|ERR|CONT code=<name>[<code_text>] text=<escaped> q=<hex>
 *   BANNER <escaped>  LINE <escaped>  DATA <escaped>  END q=<hex>
 *   ERROR <errname> <message>  UNSOLICITED <first unsolicited octet>  EOF-IDLE
 * Returns a malloc'd string.
 */
char *pop3t_transcript(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                       const pop3_decoder_options *opt, const size_t *cuts, size_t ncuts);

/* The same with the input in one chunk, and with fixed-size chunks of `size` octets. */
char *pop3t_whole(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                  const pop3_decoder_options *opt);
char *pop3t_chunked(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                    const pop3_decoder_options *opt, size_t size);

/*
 * Check that every two-chunk split and the one-octet-at-a-time feed give the transcript
 * of the whole input. Returns NULL when they all agree, else a malloc'd description of
 * the first difference.
 */
char *pop3t_check_chunkings(const char *in, size_t len, const pop3_expect *expects, size_t nexpects,
                            const pop3_decoder_options *opt);

/* Render bytes with C escapes (\r \n \0 \xNN) into a malloc'd string. */
char *pop3t_escape(const char *p, size_t n);

#endif
