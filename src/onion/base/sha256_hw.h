/* SHA-256 with the x86 SHA extensions (SHA-NI), for the one-shot digests
 * of large inputs: a 9000-relay directory hashes about 9 MB at start
 * (every microdescriptor, the signed part of the consensus), and the
 * portable code takes about a fifth of the whole load there. Tor gets the
 * same from OpenSSL. crypto.c's tk_sha256() uses it when the CPU has the
 * extensions and mbedTLS otherwise. */
#ifndef TK_ONION_BASE_SHA256_HW_H
#define TK_ONION_BASE_SHA256_HW_H

#include <stddef.h>
#include <stdint.h>

/* 1 if this CPU (and build) can run tk_sha256_hw(); asked once. */
int tk_sha256_hw_available(void);

/* The SHA-256 of msg into out. Only when tk_sha256_hw_available(). */
void tk_sha256_hw(const void *msg, size_t len, uint8_t out[32]);

#endif
