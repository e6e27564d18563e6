# The math module.

# == constants
import math
[math.pi, math.e, math.tau, math.inf, -math.inf]

# == nan_constant_text
import math
[math.isnan(math.nan), str(math.nan)]

# == sqrt_and_isqrt
import math
[math.sqrt(2), math.sqrt(16), math.isqrt(17), math.isqrt(10 ** 20)]

# == floor_ceil_return_ints
import math
[math.floor(2.5), math.ceil(2.1), type(math.floor(2.5)).__name__, math.floor(-0.5)]

# == hypot_dist
import math
[math.hypot(3, 4), math.dist((0, 0), (1, 1)), math.hypot(1, 2, 2)]

# == log_variants
import math
[math.log(math.e), math.log(8, 2), math.log10(1000), math.log2(1024), math.log1p(1e-10)]

# == log_big_int
import math
math.log(10 ** 400, 10)

# == exp_and_expm1
import math
[math.exp(1), math.exp(-1), math.expm1(1e-10)]

# == trig
import math
[math.sin(math.pi / 6), math.cos(0), math.tan(math.pi / 4), math.atan2(1, 1), math.degrees(math.pi), math.radians(180)]

# == factorial_comb_perm
import math
[math.factorial(20), math.comb(10, 3), math.perm(5, 2), math.factorial(25)]

# == factorial_negative_error
import math
math.factorial(-1)

# == factorial_float_error
import math
math.factorial(5.0)

# == gcd_lcm
import math
[math.gcd(12, 18), math.gcd(0, 5), math.lcm(4, 6), math.gcd(12, 18, 24), math.lcm()]

# == fsum_exact
import math
[math.fsum([0.1] * 10), sum([0.1] * 10)]

# == prod
import math
[math.prod([1, 2, 3, 4]), math.prod([]), math.prod([0.5, 4]), math.prod(range(1, 6), start=2)]

# == isclose_tolerances
import math
[math.isclose(1.0, 1.0000000001), math.isclose(1.0, 1.01, rel_tol=0.05), math.isclose(0, 1e-12), math.isclose(0, 1e-12, abs_tol=1e-9)]

# == copysign_fabs
import math
[math.copysign(3, -0.0), math.fabs(-2), math.fmod(-7, 3), -7 % 3]

# == modf_frexp_ldexp
import math
[math.modf(3.75), math.frexp(8.0), math.ldexp(0.5, 4)]

# == isfinite_isinf
import math
[math.isfinite(1e308), math.isinf(1e308 * 10), math.isfinite(float("nan"))]

# == trunc_large
import math
math.trunc(1e20)

# == pow_float
import math
[math.pow(2, 0.5), math.pow(2, 10)]

# == sqrt_negative_error
import math
math.sqrt(-4)

# == log_negative_error
import math
math.log(-1)

# == floor_of_inf_error
import math
math.floor(float("inf"))

# == remainder
import math
[math.remainder(10, 3), math.remainder(11, 3)]

# == sumprod_style_dot
import math
a, b = [1.5, 2.0, 3.0], [4.0, 5.0, 6.0]
math.fsum(x * y for x, y in zip(a, b))

# == cbrt_via_pow
round(27 ** (1 / 3), 10)

# == nextafter_ulp
import math
[math.nextafter(1.0, 2.0), math.ulp(1.0)]

# == acos_out_of_domain
import math
math.acos(2)

# == gamma_lgamma
import math
[math.gamma(5), math.lgamma(10)]

# == erf
import math
[math.erf(0.5), math.erfc(0.5)]

# == floor_division_vs_floor
import math
[math.floor(-7 / 2), -7 // 2, int(-7 / 2)]

# == comb_large
import math
math.comb(100, 50)

# == isqrt_negative_error
import math
math.isqrt(-1)
