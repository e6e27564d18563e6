# decimal and fractions: money arithmetic.

# == decimal_exact_sum
from decimal import Decimal
str(Decimal("0.1") + Decimal("0.2"))

# == decimal_from_float_exact
from decimal import Decimal
str(Decimal(0.1))

# == decimal_quantize_half_up
from decimal import Decimal, ROUND_HALF_UP
[str(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) for x in ["2.675", "2.665", "-1.005"]]

# == decimal_quantize_default_half_even
from decimal import Decimal
[str(Decimal(x).quantize(Decimal("0.01"))) for x in ["2.675", "2.665", "0.125"]]

# == decimal_round_builtin
from decimal import Decimal
[str(round(Decimal("2.675"), 2)), round(Decimal("2.5")), round(Decimal("3.5"))]

# == decimal_result_is_float
from decimal import Decimal
Decimal("19.99") * 3

# == decimal_repr
from decimal import Decimal
[repr(Decimal("1.10")), repr(Decimal("-0")), repr(Decimal("1E+3")), repr(Decimal("NaN"))]

# == decimal_division_precision
from decimal import Decimal
str(Decimal(1) / Decimal(7))

# == decimal_local_context_precision
from decimal import Decimal, localcontext
with localcontext() as ctx:
    ctx.prec = 5
    x = Decimal(1) / Decimal(3)
str(x)

# == decimal_division_by_zero
from decimal import Decimal
Decimal(1) / Decimal(0)

# == decimal_invalid_string
from decimal import Decimal
Decimal("1,5")

# == decimal_float_mix_error
from decimal import Decimal
Decimal("1.1") + 1.1

# == decimal_int_mix_ok
from decimal import Decimal
str(Decimal("1.5") * 2 + 1)

# == decimal_comparisons
from decimal import Decimal
[Decimal("1.0") == Decimal("1.00"), Decimal("0.1") == 0.1, Decimal(2) == 2, Decimal("1.5") < 2]

# == decimal_normalize_and_tuple
from decimal import Decimal
d = Decimal("1.2300")
[str(d.normalize()), d.as_tuple().exponent, str(Decimal("100").normalize())]

# == decimal_format_specs
from decimal import Decimal
d = Decimal("1234567.891")
[f"{d:,.2f}", f"{d:.3e}", f"{d:>15}", f"{Decimal('0.5'):.0%}"]

# == decimal_sum_invoice
from decimal import Decimal, ROUND_HALF_UP
lines = [("widget", "3", "19.99"), ("gadget", "1", "5.50"), ("bolt", "12", "0.15")]
subtotal = sum(Decimal(qty) * Decimal(price) for _, qty, price in lines)
tax = (subtotal * Decimal("0.0825")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
[str(subtotal), str(tax), str(subtotal + tax)]

# == decimal_split_evenly
from decimal import Decimal, ROUND_DOWN
total, parts = Decimal("100.00"), 3
share = (total / parts).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
shares = [share] * parts
shares[0] += total - sum(shares)
[str(s) for s in shares]

# == decimal_sqrt_exp
from decimal import Decimal
[str(Decimal(2).sqrt()), str(Decimal(1).exp())]

# == decimal_to_int_and_float
from decimal import Decimal
[int(Decimal("-3.7")), float(Decimal("2.5")), Decimal("3.7").to_integral_value().__str__()]

# == decimal_special_values
from decimal import Decimal
[str(Decimal("Infinity") + 1), Decimal("NaN").is_nan(), str(-Decimal("0.0"))]

# == decimal_in_json_via_str
import json
from decimal import Decimal
json.dumps({"amount": str(Decimal("10.50"))})

# == decimal_context_traps
from decimal import Decimal, localcontext, Inexact
with localcontext() as ctx:
    ctx.traps[Inexact] = True
    try:
        Decimal(1) / Decimal(3)
        result = "no trap"
    except Inexact:
        result = "trapped"

# == decimal_compare_total_sorting
from decimal import Decimal
[str(d) for d in sorted([Decimal("1.10"), Decimal("1.1"), Decimal("0.9")])]

# == fraction_arithmetic
from fractions import Fraction
x = Fraction(1, 3) + Fraction(1, 6)
[str(x), x.numerator, x.denominator, repr(x)]

# == fraction_from_float_and_limit
from fractions import Fraction
[str(Fraction(0.1)), str(Fraction(0.1).limit_denominator(100)), str(Fraction("3.75")), str(Fraction("-2/4"))]

# == fraction_result_is_float
from fractions import Fraction
Fraction(1, 3)

# == fraction_zero_denominator
from fractions import Fraction
Fraction(1, 0)

# == fraction_mixed_ops
from fractions import Fraction
[Fraction(1, 2) + 1, Fraction(1, 2) * 0.5, Fraction(3, 4) > 0.7, str(Fraction(1, 2) ** 2)]

# == fraction_sum_exact
from fractions import Fraction
str(sum(Fraction(1, n) for n in range(1, 7)))

# == fraction_round_and_floor
from fractions import Fraction
import math
[round(Fraction(5, 2)), round(Fraction(7, 2)), math.floor(Fraction(-7, 2)), str(round(Fraction(22, 7), 2))]

# == fraction_invalid_string
from fractions import Fraction
Fraction("1/x")

# == decimal_percent_change_money
from decimal import Decimal, ROUND_HALF_EVEN
old, new = Decimal("80.00"), Decimal("92.50")
str(((new - old) / old * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))

# == decimal_getcontext_default
from decimal import getcontext
ctx = getcontext()
[ctx.prec, str(ctx.rounding)]

# == decimal_from_tuple_and_adjusted
from decimal import Decimal
[str(Decimal((1, (3, 1, 4), -2))), Decimal("123.45").adjusted()]

# == decimal_str_large_exponent
from decimal import Decimal
[str(Decimal("1e30") * 1), str(Decimal("0.000001")), str(Decimal("0.0000001"))]
