/* fmath.h: ln and exp by argument reduction and a short series. */
#include "onion/base/fmath.h"

#include <math.h> /* NAN and INFINITY only: no libm function is used */
#include <stdint.h>
#include <string.h>

static const double ln2_hi = 6.93147180369123816490e-01; /* 2^-32 exact */
static const double ln2_lo = 1.90821492927058770002e-10;
static const double sqrt2 = 1.41421356237309504880;

static uint64_t
bits_of(double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof b);
	return b;
}

static double
of_bits(uint64_t b)
{
	double x;
	memcpy(&x, &b, sizeof x);
	return x;
}

double
tk_ln(double x)
{
	uint64_t b;
	int e;
	double m, s, s2, term, sum;
	if (x != x || x < 0)
		return NAN;
	if (x == 0)
		return -INFINITY;
	if (x > 1.7976931348623157e308)
		return x;
	b = bits_of(x);
	e = (int)((b >> 52) & 0x7ff);
	if (e == 0) { /* subnormal: scale into the normal range first */
		x *= 18014398509481984.0; /* 2^54 */
		b = bits_of(x);
		e = (int)((b >> 52) & 0x7ff) - 54;
	}
	e -= 1023;
	/* x = 2^e * m with m in [1, 2), then in [sqrt(1/2), sqrt(2)) */
	m = of_bits((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
	if (m > sqrt2) {
		m *= 0.5;
		e++;
	}
	/* ln m = 2 atanh s = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.172:
	 * the 23rd power is below 2^-58 of the first term */
	s = (m - 1) / (m + 1);
	s2 = s * s;
	term = s;
	sum = 0;
	for (int k = 1; k <= 23; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return e * ln2_hi + (2 * sum + e * ln2_lo);
}

double
tk_exp(double x)
{
	double r, term, sum;
	int k;
	if (x != x)
		return x;
	if (x > 709.782712893384)
		return INFINITY;
	if (x < -745.1332191019412)
		return 0;
	/* x = k ln 2 + r, |r| <= ln 2 / 2; e^r by its Taylor series (the
	 * 18th term is below 2^-60), then 2^k in two steps so that the
	 * scale itself never leaves the normal range */
	k = (int)(x / (ln2_hi + ln2_lo) + (x < 0 ? -0.5 : 0.5));
	r = (x - k * ln2_hi) - k * ln2_lo;
	term = 1;
	sum = 1;
	for (int n = 1; n <= 18; n++) {
		term *= r / n;
		sum += term;
	}
	{
		int k1 = k / 2, k2 = k - k / 2;
		sum *= of_bits((uint64_t)(1023 + k1) << 52);
		sum *= of_bits((uint64_t)(1023 + k2) << 52);
	}
	return sum;
}

double
tk_pow(double x, double y)
{
	if (!(x > 0))
		return NAN;
	return tk_exp(y * tk_ln(x));
}
