/*
 * quirk_names.h - the short names of the quirk catalogue (conformance/QUIRKS.md), so
 * that reports print "Q6 (bare-lf)" where a bare "Q6" would send the reader searching.
 */
#ifndef POP3CONFORM_QUIRK_NAMES_H
#define POP3CONFORM_QUIRK_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Number of the last quirk in the catalogue (ids run from 1 to this). */
#define POP3CONFORM_QUIRK_MAX 54u

/* The short name of quirk Q`id` ("bare-lf" for 6), NULL when there is no such quirk. */
const char *pop3conform_quirk_name(unsigned id);

/* The name of the quirk a token such as "Q6" stands for, NULL when the token is not
 * exactly "Q" and the number of a quirk. */
const char *pop3conform_quirk_token_name(const char *tok, size_t len);

/* True when a finding's quirk text is catalogue ids alone ("Q41", "Q13 Q45"), false when
 * it starts with the mock's name of the quirk ("no-dot-stuffing Q4") or is NULL. */
bool pop3conform_quirk_ids_only(const char *quirk);

/*
 * pop3conform_quirk_annotate - copy `text` into `out` (always NUL-terminated, cut to
 * `len`), with " (name)" after every word "Qn" that is a quirk id, unless that name is a
 * word of `text` already ("bare-lf Q6" stays as it is; "Q41" becomes
 * "Q41 (stls-injection)"). Returns `out`.
 */
char *pop3conform_quirk_annotate(const char *text, char *out, size_t len);

#endif
