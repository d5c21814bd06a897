// CMbedTLS: mbedTLS 2.28 (Debian libmbedtls-dev; no pkg-config file, so the module map names the
// three libraries) as a system-library module for the TLS module, plus the few helpers whose C
// shape (callback registration with a C function, struct internals) is awkward from Swift.
#pragma once
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>

/// Entropy for ctr_drbg straight from the kernel (getrandom, blocking only before the pool is
/// initialised at boot). Returns 0 or MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED.
static inline int deskphone_tls_getrandom(void *context, unsigned char *out, size_t length) {
    (void)context;
    size_t done = 0;
    while (done < length) {
        ssize_t got = getrandom(out + done, length - done, 0);
        if (got <= 0) return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
        done += (size_t)got;
    }
    return 0;
}

/// Seeds `drbg` from getrandom with a personalisation string. Returns mbedTLS's status.
static inline int deskphone_tls_drbg_seed(mbedtls_ctr_drbg_context *drbg) {
    static const unsigned char personal[] = "deskphone-tls";
    return mbedtls_ctr_drbg_seed(drbg, deskphone_tls_getrandom, NULL, personal, sizeof personal - 1);
}

/// The configuration's random source: ctr_drbg over `drbg`.
static inline void deskphone_tls_conf_rng(mbedtls_ssl_config *conf, mbedtls_ctr_drbg_context *drbg) {
    mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, drbg);
}

/// A server configuration's session cache (session-ID resumption).
static inline void deskphone_tls_conf_cache(mbedtls_ssl_config *conf, mbedtls_ssl_cache_context *cache) {
    mbedtls_ssl_conf_session_cache(conf, cache, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
}

/// Whether the handshake in progress resumes a session: 1 yes, 0 no, -1 no handshake running.
static inline int deskphone_tls_handshake_resumes(const mbedtls_ssl_context *ssl) {
    return ssl->handshake != NULL ? ssl->handshake->resume : -1;
}

/// The handshake state (MBEDTLS_SSL_HELLO_REQUEST ... MBEDTLS_SSL_HANDSHAKE_OVER).
static inline int deskphone_tls_state(const mbedtls_ssl_context *ssl) { return ssl->state; }

/// Whether the server sent a CertificateRequest in this handshake (client side).
static inline int deskphone_tls_client_auth_requested(const mbedtls_ssl_context *ssl) {
    return ssl->client_auth;
}

/// The description of the last alert received, or -1 when the last record was no alert.
static inline int deskphone_tls_last_alert(const mbedtls_ssl_context *ssl) {
    if (ssl->in_msgtype != MBEDTLS_SSL_MSG_ALERT || ssl->in_msg == NULL) return -1;
    return ssl->in_msg[1];
}

/// The certificate's subject common name (the last CN attribute), or NULL.
static inline const mbedtls_x509_buf *deskphone_tls_subject_cn(const mbedtls_x509_crt *crt) {
    const mbedtls_x509_buf *found = NULL;
    for (const mbedtls_x509_name *name = &crt->subject; name != NULL; name = name->next) {
        if (name->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) found = &name->val;
    }
    return found;
}

/// Whether the certificate names itself as its issuer (self-signed or a bare root).
static inline int deskphone_tls_self_issued(const mbedtls_x509_crt *crt) {
    return crt->issuer_raw.len == crt->subject_raw.len
        && memcmp(crt->issuer_raw.p, crt->subject_raw.p, crt->issuer_raw.len) == 0;
}

/// The first subjectAltName entry (its `buf.p` is NULL when the certificate has none).
static inline const mbedtls_x509_sequence *deskphone_tls_subject_alt_names(const mbedtls_x509_crt *crt) {
    return &crt->subject_alt_names;
}
