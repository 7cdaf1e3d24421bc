/*
 * pop3mock/case_file.h - the dialogue of a conformance case file, as a script.
 *
 * A case file (the .case files under conformance/cases) holds the client's side (header keys,
 * "run:" operations and their results) and, after a line "dialogue:", the server's side in the
 * script format of pop3mock/script.h. The dialogue is taken with every line above it
 * turned into an empty comment, so that script errors and departure reports carry the
 * case file's own line numbers, and with %repeat[COUNT|TEXT]% expanded (COUNT copies of
 * TEXT, at most POP3MOCK_CASE_REPEAT_MAX octets). pop3-conform and pop3-mock --case both
 * read cases through these functions.
 */
#ifndef POP3MOCK_CASE_FILE_H
#define POP3MOCK_CASE_FILE_H

#include <stddef.h>

#include "pop3mock/script.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text a %repeat[]% may produce: large enough for a 64 KiB SASL challenge or a
 * 1 MiB body line, small enough to stay a test fixture. */
#define POP3MOCK_CASE_REPEAT_MAX (4u << 20)

/*
 * pop3mock_case_expand - `in` with every %repeat[COUNT|TEXT]% replaced by COUNT copies of
 * TEXT. Returns a NUL-terminated malloc'd copy (length in `*outlen`), or NULL with `*err`
 * saying what is wrong (a static string; "out of memory" too).
 */
char *pop3mock_case_expand(const char *in, size_t len, size_t *outlen, const char **err);

/*
 * pop3mock_case_dialogue - the script text of a case file's `len` octets: lines up to and
 * including "dialogue:" become "#", the rest is kept and expanded. Returns a malloc'd
 * NUL-terminated text (length in `*outlen`), or NULL with "NAME:LINE: message" in `err`.
 */
char *pop3mock_case_dialogue(const char *name, const char *text, size_t len, size_t *outlen,
                             char *err, size_t errlen);

/* Read a case file and parse its dialogue. NULL with "FILE:LINE: message" in `err`. */
pop3mock_script *pop3mock_case_load(const char *path, char *err, size_t errlen);
/* The same with the script parser's limits (`opt` NULL: the defaults). */
pop3mock_script *pop3mock_case_load_with(const char *path, const pop3mock_script_options *opt,
                                         char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
