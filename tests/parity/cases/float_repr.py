# Float and int text: repr/str of floats, results that are floats, -0.0, inf/nan, big ints.

# == float_sum_result_exact
0.1 + 0.2

# == float_product_result_exact
1.1 * 3

# == float_repr_text
repr(1.1 * 3)

# == float_repr_shortest
[repr(0.1), repr(1 / 3), repr(2 / 3), repr(1e16), repr(1e-5), repr(123456789012345678.0)]

# == float_repr_exponent_switch
[repr(1e15), repr(1e16), repr(0.0001), repr(0.00001)]

# == float_str_same_as_repr
[str(1e22), str(1.5e-10), str(100.0)]

# == float_negative_zero_result
-0.0

# == float_negative_zero_repr
[repr(-0.0), str(-0.0), -0.0 == 0.0]

# == float_negative_zero_from_math
import math
math.copysign(0.0, -1)

# == float_inf_result
float("inf")

# == float_negative_inf_result
-float("inf")

# == float_nan_result
float("nan")

# == float_inf_nan_repr
[repr(float("inf")), repr(float("-inf")), repr(float("nan"))]

# == float_nan_in_list_result
[1.0, float("nan"), float("-inf")]

# == float_overflow_to_inf
1e308 * 10

# == float_overflow_error_pow
10.0 ** 400

# == float_max_and_min
import sys
[sys.float_info.max, sys.float_info.min, sys.float_info.epsilon]

# == float_tiny_subnormal
5e-324

# == float_subnormal_halved
5e-324 / 2

# == float_large_integer_valued
1e22

# == float_integer_valued_result
10 / 2

# == float_big_result
2.0 ** 70

# == float_many_digits
[1 / 7, 22 / 7, 355 / 113]

# == float_accumulate_loop
total = 0.0
for price in [19.99, 5.01, 3.33, 0.67]:
    total += price
total

# == float_average
values = [3, 4, 4, 5]
sum(values) / len(values)

# == float_percent_change
old, new = 80.0, 92.5
(new - old) / old * 100

# == float_hex
[(1.5).hex(), float.fromhex("0x1.8p1")]

# == float_from_string_exact
float("0.30000000000000004")

# == float_round_trip_str
x = 2 / 3
float(repr(x)) == x

# == int_str_big
str(2 ** 100)

# == int_repr_negative_big
repr(-(10 ** 25))

# == big_int_in_list_result
[1, 2 ** 70, -(2 ** 70)]

# == big_int_dict_value_result
{"big": 10 ** 20, "small": 10 ** 18}

# == int_float_key_result
{1: "int", 2.5: "float", True: "bool?", None: "none"}

# == tuple_key_result
{(1, 2): "pair"}

# == float_key_str
{0.1 + 0.2: "x", 1e20: "y", -0.0: "z"}

# == float_format_repr_in_fstring
x = 0.1 + 0.2
f"{x}|{x!r}|{x!s}"

# == float_in_str_of_list
str([0.1 + 0.2, 1e-10, -0.0])

# == float_trunc_floor_ceil
import math
[math.trunc(-2.7), math.floor(-2.7), math.ceil(-2.2), math.floor(2.0)]

# == int_of_float_string_roundtrip
int(float("1e18"))

# == float_equality_tolerance
import math
math.isclose(0.1 + 0.2, 0.3)

# == float_division_result_list
[1 / 10, 2 / 10, 3 / 10, 7 / 10]

# == float_scientific_result
6.02214076e23

# == float_near_one
1 - 1e-16

# == float_mul_cents
19.99 * 100

# == float_round_then_multiply
round(19.99 * 100)

# == float_negative_small
-1e-300 * 1e-300

# == float_repr_of_large_ints_as_float
[float(2 ** 53), float(2 ** 53 + 1), float(10 ** 17)]

# == bool_arithmetic
[True + True, True * 3.5, -True]

# == int_repr_bool_subclass
[repr(True), str(False), True == 1]
