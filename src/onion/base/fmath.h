/* The natural logarithm and exponential in plain C, for the circuit
 * build-time fit (client/cbt.c), the engine's only floating-point maths.
 * Linking libm for two functions cost the daemon 0.3 MB resident: at
 * load the dynamic linker resolves every IFUNC of libm's (sin, cos, exp,
 * log, pow, rint, ...), and each resolver faults in the code around it.
 * ln and exp are good to a few units in the last place, pow to its
 * product y ln x's error (1e-14 at the fit's worst); test_cbt compares
 * them with libm's. */
#ifndef TK_ONION_BASE_FMATH_H
#define TK_ONION_BASE_FMATH_H

/* ln x for x > 0 and finite; -inf for 0, NaN below or for NaN, +inf for
 * +inf. */
double tk_ln(double x);

/* e^x; 0 below -745, +inf above 709.78, NaN for NaN. */
double tk_exp(double x);

/* x^y = e^(y ln x) for x > 0 (the fit's only case); NaN otherwise. */
double tk_pow(double x, double y);

#endif
