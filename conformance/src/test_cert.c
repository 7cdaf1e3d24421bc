/*
 * test_cert.c - the TLS fixture of a run: a fresh self-signed certificate for
 * "localhost" and 127.0.0.1 (the mock serves it for STLS, RFC 2595, and implicit TLS,
 * RFC 8314 section 3.1; clients trust it as their only CA, so the host name and chain
 * checks of RFC 2595 section 2.4 / RFC 7817 run for real), and an unrelated one that a
 * client given it as its CA must reject. Made at start-up so that no key is ever
 * committed and nothing expires.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

static bool add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) return false;
    bool ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A self-signed certificate for `cn` (NULL: no CN) with `san` (NULL: no subjectAltName)
 * into `path`, its key into `keypath`. */
static bool make_cert(const char *path, const char *keypath, const char *cn, const char *san,
                      long serial)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    bool ok = key != NULL && x != NULL;
    if (ok) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 7L * 24 * 3600);
        X509_set_pubkey(x, key);
        X509_NAME *name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pop3kit", -1,
                                   -1, 0);
        if (cn != NULL)
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                       0);
        X509_set_issuer_name(x, name);
        ok = add_ext(x, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") &&
             (san == NULL || add_ext(x, NID_subject_alt_name, san)) &&
             X509_sign(x, key, EVP_sha256()) > 0;
    }
    FILE *f = ok ? fopen(path, "w") : NULL;
    if (f != NULL) {
        ok = PEM_write_X509(f, x) == 1;
        ok = fclose(f) == 0 && ok;
    } else {
        ok = false;
    }
    f = ok ? fopen(keypath, "w") : NULL;
    if (f != NULL) {
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
        ok = fclose(f) == 0 && ok;
    } else {
        ok = false;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

/*
 * The certificates a case can have the mock serve ("tls-cert: NAME"), for the server
 * identity rules of RFC 7817 section 3 and RFC 6125 section 6: the default one, and
 * fixtures with only a CN, a CN that disagrees with the subjectAltName, only a URI-ID,
 * a wildcard, and a partial wildcard.
 */
static const struct {
    const char *name, *cn, *san;
} cert_specs[] = {
    {"localhost", "localhost", "DNS:localhost,IP:127.0.0.1"},
    {"cn-only", "localhost", NULL},
    {"cn-right-san-wrong", "localhost", "DNS:other.invalid"},
    {"uri-only", NULL, "URI:pop://localhost/"},
    {"wildcard", "wildcard.test", "DNS:*.example.test"},
    {"partial-wildcard", "partial.test", "DNS:f*.example.test"},
};

int tls_fixture_make(conform_tls *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 180) tmp = "/tmp";
    snprintf(t->dir, sizeof t->dir, "%s/pop3-conform-XXXXXX", tmp);
    if (mkdtemp(t->dir) == NULL) {
        snprintf(err, errlen, "cannot make a temporary folder under %s", tmp);
        t->dir[0] = '\0';
        return -1;
    }
    char dir[sizeof t->dir]; /* a copy: the paths are written into *t as well */
    memcpy(dir, t->dir, sizeof dir);
    for (size_t i = 0; i < sizeof cert_specs / sizeof cert_specs[0] && i < TLS_CERTS_MAX; i++) {
        tls_cert *c = &t->certs[t->ncerts++];
        c->name = cert_specs[i].name;
        snprintf(c->cert, sizeof c->cert, "%s/%s-cert.pem", dir, c->name);
        snprintf(c->key, sizeof c->key, "%s/%s-key.pem", dir, c->name);
        if (!make_cert(c->cert, c->key, cert_specs[i].cn, cert_specs[i].san, (long)i + 1)) {
            snprintf(err, errlen, "cannot make the test certificate %s in %s", c->name, t->dir);
            tls_fixture_remove(t);
            return -1;
        }
    }
    snprintf(t->other, sizeof t->other, "%s/other-cert.pem", dir);
    snprintf(t->other_key, sizeof t->other_key, "%s/other-key.pem", dir);
    if (!make_cert(t->other, t->other_key, "other.invalid", "DNS:other.invalid", 100)) {
        snprintf(err, errlen, "cannot make the test certificates in %s", t->dir);
        tls_fixture_remove(t);
        return -1;
    }
    t->cert = t->certs[0].cert;
    t->key = t->certs[0].key;
    return 0;
}

const tls_cert *tls_fixture_find(const conform_tls *t, const char *name)
{
    for (size_t i = 0; i < t->ncerts; i++)
        if (strcmp(t->certs[i].name, name) == 0) return &t->certs[i];
    return NULL;
}

void tls_fixture_remove(conform_tls *t)
{
    if (t->dir[0] == '\0') return;
    for (size_t i = 0; i < t->ncerts; i++) {
        unlink(t->certs[i].cert);
        unlink(t->certs[i].key);
    }
    unlink(t->other);
    unlink(t->other_key);
    rmdir(t->dir);
    t->dir[0] = '\0';
}
