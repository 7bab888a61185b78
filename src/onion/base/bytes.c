/* Bounds-checked byte reader/writer, hex, base64 and PEM armour. */
#include "onion/base/bytes.h"

#include <string.h>

void
tk_reader_init(tk_reader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = buf ? len : 0;
	r->off = 0;
	r->err = 0;
}

size_t
tk_reader_left(const tk_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* Marks the reader failed unless n more bytes are available. */
static int
reader_need(tk_reader *r, size_t n)
{
	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return -1;
	}
	return 0;
}

int
tk_reader_u8(tk_reader *r, uint8_t *v)
{
	if (reader_need(r, 1) < 0) {
		*v = 0;
		return -1;
	}
	*v = r->p[r->off++];
	return 0;
}

int
tk_reader_u16(tk_reader *r, uint16_t *v)
{
	if (reader_need(r, 2) < 0) {
		*v = 0;
		return -1;
	}
	*v = tk_get_u16(r->p + r->off);
	r->off += 2;
	return 0;
}

int
tk_reader_u32(tk_reader *r, uint32_t *v)
{
	if (reader_need(r, 4) < 0) {
		*v = 0;
		return -1;
	}
	*v = tk_get_u32(r->p + r->off);
	r->off += 4;
	return 0;
}

int
tk_reader_copy(tk_reader *r, void *out, size_t n)
{
	if (reader_need(r, n) < 0) {
		if (n)
			memset(out, 0, n);
		return -1;
	}
	if (n)
		memcpy(out, r->p + r->off, n);
	r->off += n;
	return 0;
}

int
tk_reader_skip(tk_reader *r, size_t n)
{
	if (reader_need(r, n) < 0)
		return -1;
	r->off += n;
	return 0;
}

const uint8_t *
tk_reader_view(tk_reader *r, size_t n)
{
	if (reader_need(r, n) < 0)
		return NULL;
	const uint8_t *v = r->p + r->off;
	r->off += n;
	return v;
}

void
tk_writer_init(tk_writer *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->err = 0;
}

static int
writer_room(tk_writer *w, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = 1;
		return -1;
	}
	return 0;
}

int
tk_writer_u8(tk_writer *w, uint8_t v)
{
	if (writer_room(w, 1) < 0)
		return -1;
	w->p[w->len++] = v;
	return 0;
}

int
tk_writer_u16(tk_writer *w, uint16_t v)
{
	if (writer_room(w, 2) < 0)
		return -1;
	tk_put_u16(w->p + w->len, v);
	w->len += 2;
	return 0;
}

int
tk_writer_u32(tk_writer *w, uint32_t v)
{
	if (writer_room(w, 4) < 0)
		return -1;
	tk_put_u32(w->p + w->len, v);
	w->len += 4;
	return 0;
}

int
tk_writer_bytes(tk_writer *w, const void *src, size_t n)
{
	if (writer_room(w, n) < 0)
		return -1;
	if (n)
		memcpy(w->p + w->len, src, n);
	w->len += n;
	return 0;
}

int
tk_writer_zero(tk_writer *w, size_t n)
{
	if (writer_room(w, n) < 0)
		return -1;
	if (n)
		memset(w->p + w->len, 0, n);
	w->len += n;
	return 0;
}

uint8_t *
tk_writer_reserve(tk_writer *w, size_t n)
{
	if (writer_room(w, n) < 0)
		return NULL;
	uint8_t *at = w->p + w->len;
	memset(at, 0, n);
	w->len += n;
	return at;
}

int
tk_ct_memeq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

void
tk_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tk_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
	if (hexlen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
tk_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each byte in base64: 0..63, B64_SPACE for white space (skipped),
 * B64_PAD for '=', B64_BAD otherwise. A table: directory documents hold
 * tens of thousands of base64 fields. */
enum { B64_BAD = -1, B64_SPACE = -2, B64_PAD = -3 };
static const signed char b64tab[256] = {
	/* clang-format off */
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -2, -2, -2, -2, -2, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -3, -1, -1,
	-1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	/* clang-format on */
};

size_t
tk_base64_decoded_max(size_t inlen)
{
	return inlen / 4 * 3 + 3;
}

long
tk_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	size_t n = 0; /* bytes written */
	int bits = 0; /* sextets pending in the current group */
	int pads = 0;
	size_t group_chars = 0;

	for (size_t i = 0; i < inlen; i++) {
		int v = b64tab[(unsigned char)in[i]];
		if (v == B64_SPACE)
			continue;
		if (v == B64_PAD) {
			pads++;
			group_chars++;
			continue;
		}
		if (pads)
			return -1; /* data after padding */
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits++;
		group_chars++;
		if (bits == 4) {
			if (cap - n < 3)
				return -2;
			out[n++] = (uint8_t)(acc >> 16);
			out[n++] = (uint8_t)(acc >> 8);
			out[n++] = (uint8_t)acc;
			acc = 0;
			bits = 0;
		}
	}
	/* Padding, if present, must complete the final group exactly. */
	if (pads && (pads > 2 || group_chars % 4 != 0 || bits + pads != 4))
		return -1;
	switch (bits) {
	case 0:
		break;
	case 1:
		return -1; /* 6 bits cannot encode a byte */
	case 2:
		if (cap - n < 1)
			return -2;
		out[n++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (cap - n < 2)
			return -2;
		out[n++] = (uint8_t)(acc >> 10);
		out[n++] = (uint8_t)(acc >> 2);
		break;
	}
	return (long)n;
}

long
tk_base64_encode(const uint8_t *in, size_t n, int pad, char *out, size_t cap)
{
	size_t need = n / 3 * 4;
	size_t rem = n % 3;
	if (rem)
		need += pad ? 4 : rem + 1;
	if (cap < need + 1)
		return -1;
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (rem) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (rem == 2)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		if (rem == 2)
			out[o++] = b64chars[(v >> 6) & 63];
		if (pad) {
			if (rem == 1)
				out[o++] = '=';
			out[o++] = '=';
		}
	}
	out[o] = '\0';
	return (long)o;
}

/* Finds needle (nlen bytes) in hay[0..hlen); NULL if absent. */
static const char *
find_bytes(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0 || hlen < nlen)
		return NULL;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

static int
base32_value(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

long
tk_base32_decode(const char *in, size_t inlen, uint8_t *out, size_t cap)
{
	size_t n = inlen / 8 * 5 + (inlen % 8) * 5 / 8, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	if (n > cap)
		return -2;
	for (size_t i = 0; i < inlen; i++) {
		int v = base32_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}

long
tk_base32_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t len = (n * 8 + 4) / 5, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	if (cap < len + 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return (long)o;
}

long
tk_pem_decode(const char *text, size_t len, const char *label, uint8_t *out,
	      size_t cap, const char **end)
{
	char begin[96], fin[96];
	size_t ll = strlen(label);
	if (ll > 64)
		return -1;
	memcpy(begin, "-----BEGIN ", 11);
	memcpy(begin + 11, label, ll);
	memcpy(begin + 11 + ll, "-----", 5);
	memcpy(fin, "-----END ", 9);
	memcpy(fin + 9, label, ll);
	memcpy(fin + 9 + ll, "-----", 5);
	size_t blen = 16 + ll, flen = 14 + ll;

	const char *b = find_bytes(text, len, begin, blen);
	if (!b)
		return -1;
	const char *body = b + blen;
	const char *e = find_bytes(body, len - (size_t)(body - text), fin,
				   flen);
	if (!e)
		return -1;
	long n = tk_base64_decode(body, (size_t)(e - body), out, cap);
	if (n < 0)
		return n;
	if (end)
		*end = e + flen;
	return n;
}
