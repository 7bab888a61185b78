/* Bounds-checked big-endian byte reader and writer, hex and base64.
 *
 * Both the reader and the writer carry a sticky error flag: once a read
 * runs past the end (or a write past the capacity) every later call fails
 * too and leaves its output zeroed, so a codec can do a run of reads and
 * check `r.err` once at the end without ever touching memory it does not
 * own. */
#ifndef TK_ONION_BASE_BYTES_H
#define TK_ONION_BASE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

typedef struct tk_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err; /* sticky: set by the first out-of-bounds read */
} tk_reader;

void tk_reader_init(tk_reader *r, const void *buf, size_t len);
size_t tk_reader_left(const tk_reader *r);
/* Each returns 0, or -1 (and sets r->err, zeroes *v) if too few bytes. */
int tk_reader_u8(tk_reader *r, uint8_t *v);
int tk_reader_u16(tk_reader *r, uint16_t *v);
int tk_reader_u32(tk_reader *r, uint32_t *v);
int tk_reader_copy(tk_reader *r, void *out, size_t n);
int tk_reader_skip(tk_reader *r, size_t n);
/* A view of the next n bytes (advances), or NULL if fewer remain. */
const uint8_t *tk_reader_view(tk_reader *r, size_t n);

typedef struct tk_writer {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err; /* sticky: set by the first write that would overflow */
} tk_writer;

void tk_writer_init(tk_writer *w, void *buf, size_t cap);
/* Each returns 0, or -1 (sets w->err, writes nothing) if it would not fit. */
int tk_writer_u8(tk_writer *w, uint8_t v);
int tk_writer_u16(tk_writer *w, uint16_t v);
int tk_writer_u32(tk_writer *w, uint32_t v);
int tk_writer_bytes(tk_writer *w, const void *src, size_t n);
int tk_writer_zero(tk_writer *w, size_t n);
/* Reserve n bytes to fill in later (e.g. a length); NULL on overflow. */
uint8_t *tk_writer_reserve(tk_writer *w, size_t n);

/* 1 if equal; the time taken does not depend on where they differ. */
int tk_ct_memeq(const void *a, const void *b, size_t n);
/* Overwrites secrets in a way the compiler may not drop. */
void tk_wipe(void *p, size_t n);

/* Hex: decode exactly 2*n hex digits (either case) into out[n];
 * 0 or -1 on a bad digit or wrong length. encode writes 2n+1 bytes
 * (lower case, NUL-terminated). */
int tk_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n);
void tk_hex_encode(const uint8_t *in, size_t n, char *out);

/* Base64 (RFC 4648 standard alphabet), as in Tor documents:
 * decode skips ASCII whitespace (PEM bodies span lines), accepts input
 * with or without '=' padding, and rejects any other character, data
 * after padding, or a final group that cannot occur.
 * Returns the decoded length, or -1 (bad input) / -2 (out too small). */
long tk_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t cap);
/* Upper bound of the decoded size of inlen characters. */
size_t tk_base64_decoded_max(size_t inlen);
/* Encodes n bytes on one line; pad=0 omits the '=' (Tor's digests in
 * URLs and consensus lines). Writes a NUL; returns the length without it,
 * or -1 if cap is too small. */
long tk_base64_encode(const uint8_t *in, size_t n, int pad, char *out,
		      size_t cap);

/* Base32 (RFC 4648 alphabet, no padding), as onion addresses and
 * client-authorization keys write it: decode takes either case, decodes
 * inlen * 5 / 8 bytes and ignores the few bits left over (as Tor does).
 * Returns the decoded length, or -1 (a character outside the alphabet,
 * '=' included) / -2 (out too small). encode writes lower case and a NUL;
 * returns the length without it, or -1 if cap is too small. */
long tk_base32_decode(const char *in, size_t inlen, uint8_t *out, size_t cap);
long tk_base32_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/* PEM: finds "-----BEGIN <label>-----" ... "-----END <label>-----" in
 * text and decodes its body. Returns the DER length, -1 if the armour is
 * missing/malformed, -2 if out is too small. *end (optional) is set past
 * the END line. */
long tk_pem_decode(const char *text, size_t len, const char *label,
		   uint8_t *out, size_t cap, const char **end);

#endif
