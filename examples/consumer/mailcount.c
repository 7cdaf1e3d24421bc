/* mailcount - how many messages wait on a POP3 server: the README's ten-line example.
 * usage: POP3_PASSWORD=... mailcount HOST PORT USER */
#include <pop3/pop3.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4 || !getenv("POP3_PASSWORD")) return 2;
    pop3_client *c;
    pop3_credentials cred = {.user = argv[3], .secret = getenv("POP3_PASSWORD")};
    uint64_t count, size;
    if (pop3_client_new(&c, NULL) != POP3_OK) return 3;
    int rc = pop3_connect(c, argv[1], (unsigned)atoi(argv[2]), 10.0);
    if (rc == POP3_OK) rc = pop3_login(c, &cred);
    if (rc == POP3_OK) rc = pop3_stat(c, &count, &size);
    if (rc == POP3_OK)
        printf("%llu messages, %llu octets\n", (unsigned long long)count, (unsigned long long)size);
    else
        fprintf(stderr, "mailcount: %s\n", pop3_errmsg(c));
    if (rc == POP3_OK) rc = pop3_quit(c);
    pop3_client_free(c);
    return rc == POP3_OK ? 0 : 1;
}
