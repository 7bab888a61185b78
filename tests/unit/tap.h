/* Minimal TAP producer for the C unit tests: header-only, no allocation.
 * Each test binary calls tap_ok()/tap_eq_*() and ends with
 * `return tap_done();`, which prints the plan. */
#ifndef TK_TESTS_TAP_H
#define TK_TESTS_TAP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failures;

static inline void tap_vreport(int ok, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static inline void tap_vreport(int ok, const char *fmt, va_list ap)
{
	tap_count++;
	if (!ok)
		tap_failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static inline int tap_ok(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vreport(ok, fmt, ap);
	va_end(ap);
	return ok;
}

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline void tap_diag_hex(const char *label, const void *p, size_t n)
{
	const unsigned char *b = p;
	printf("#   %s (%zu):", label, n);
	for (size_t i = 0; i < n && i < 96; i++)
		printf(" %02x", b[i]);
	if (n > 96)
		fputs(" ...", stdout);
	putchar('\n');
}

/* Byte-exact comparison; on mismatch both sides are shown as hex. */
static inline int tap_eq_bytes(const void *got, size_t got_len,
			       const void *want, size_t want_len,
			       const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline int tap_eq_bytes(const void *got, size_t got_len,
			       const void *want, size_t want_len,
			       const char *fmt, ...)
{
	int ok = got_len == want_len &&
		 (got_len == 0 || memcmp(got, want, got_len) == 0);
	va_list ap;
	va_start(ap, fmt);
	tap_vreport(ok, fmt, ap);
	va_end(ap);
	if (!ok) {
		tap_diag_hex("got ", got, got_len);
		tap_diag_hex("want", want, want_len);
	}
	return ok;
}

static inline int tap_eq_long(long got, long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int tap_eq_long(long got, long want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vreport(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		tap_diag("  got %ld, want %ld", got, want);
	return got == want;
}

static inline int tap_eq_str(const char *got, const char *want,
			     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int tap_eq_str(const char *got, const char *want,
			     const char *fmt, ...)
{
	int ok = got && want && strcmp(got, want) == 0;
	va_list ap;
	va_start(ap, fmt);
	tap_vreport(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		tap_diag("  got \"%s\", want \"%s\"", got ? got : "(null)",
			 want ? want : "(null)");
	return ok;
}

/* Decodes "05 01 00" style hex (spaces and '|' ignored) into out. */
static inline size_t tap_unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = hex; *p; p++) {
		int v;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n] = (unsigned char)(hi << 4 | v);
			n++;
			hi = -1;
		}
	}
	return n;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#endif
