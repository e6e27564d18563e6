# Numeric builtins: round, divmod, pow, abs, sum, min/max, int(), float(), bool().

# == round_half_even_up
round(2.5)

# == round_half_even_down
round(3.5)

# == round_half_zero
round(0.5)

# == round_negative_half
round(-2.5)

# == round_negative_odd_half
round(-3.5)

# == round_returns_int
type(round(7.6)).__name__

# == round_ndigits_binary_tie
round(2.675, 2)

# == round_ndigits_exact
round(1.25, 1)

# == round_ndigits_returns_float
round(3.0, 0)

# == round_ndigits_negative
round(1234.5678, -2)

# == round_int_negative_ndigits
round(1250, -2)

# == round_int_negative_ndigits_odd
round(1350, -2)

# == round_int_ndigits_keeps_int
round(17, 3)

# == round_money_list
prices = [19.995, 4.125, 0.045, 10.005]
[round(p, 2) for p in prices]

# == round_small_float
round(0.000123456, 5)

# == round_large_ndigits
round(1.5, 20)

# == round_negative_zero
round(-0.4)

# == round_float_negative_zero_ndigits
round(-0.04, 1)

# == round_nan_raises
round(float("nan"))

# == round_inf_raises
round(float("inf"))

# == round_ndigits_none
round(2.5, None)

# == divmod_positive
divmod(17, 5)

# == divmod_negative_dividend
divmod(-17, 5)

# == divmod_negative_divisor
divmod(17, -5)

# == divmod_floats
divmod(7.5, 2)

# == divmod_negative_float
divmod(-7.5, 2)

# == divmod_by_zero
divmod(1, 0)

# == floor_division_negative
[-7 // 2, 7 // -2, -7 % 2, 7 % -2]

# == float_modulo_sign
[-7.5 % 2, 7.5 % -2, -0.0 % 5]

# == pow_three_args
pow(3, 200, 1000007)

# == pow_negative_exponent_modular_inverse
pow(3, -1, 7)

# == pow_three_args_zero_mod
pow(2, 10, 0)

# == pow_float_result
pow(2, -2)

# == pow_negative_base_fraction
pow(-8, 1 / 3)

# == power_operator_big
2 ** 100

# == power_zero_zero
[0 ** 0, 0.0 ** 0, pow(0, 0)]

# == abs_values
[abs(-3), abs(-2.5), abs(0), abs(-0.0), abs(True)]

# == abs_complex
abs(3 + 4j)

# == sum_ints
sum([1, 2, 3, 4])

# == sum_start
sum([1, 2, 3], 10)

# == sum_floats_classic
sum([0.1] * 10)

# == sum_floats_mixed
sum([0.1, 0.2, 0.3])

# == sum_large_small_floats
sum([1e16, 1.0, -1e16])

# == sum_lists_with_start
sum([[1], [2, 3]], [])

# == sum_strings_error
sum(["a", "b"], "")

# == sum_bools
sum([True, True, False])

# == sum_generator
sum(x * x for x in range(10))

# == min_max_basic
[min(3, 1, 2), max(3, 1, 2), min([4, 5]), max("apple")]

# == min_key
min(["pear", "fig", "banana"], key=len)

# == max_key_first_of_ties
max(["ab", "cd", "e"], key=len)

# == min_key_first_of_ties
min([("b", 1), ("a", 1), ("c", 2)], key=lambda t: t[1])

# == max_default_empty
max([], default=None)

# == min_default_value
min((x for x in [] if x), default=-1)

# == max_empty_error
max([])

# == min_empty_error
min([])

# == max_default_with_args_error
max(1, 2, default=0)

# == max_dict_by_value
scores = {"ann": 71, "bob": 92, "cid": 92}
max(scores, key=scores.get)

# == min_mixed_types_error
min([1, "a"])

# == max_of_floats_nan_first
max([float("nan"), 1.0, 2.0])

# == int_parse_plain
[int("42"), int("  -17 "), int("+5"), int("1_000")]

# == int_parse_base
[int("ff", 16), int("0x1A", 16), int("0b101", 0), int("777", 8), int("z", 36)]

# == int_parse_float_string_error
int("3.5")

# == int_parse_empty_error
int("")

# == int_parse_words_error
int("twelve")

# == int_parse_base_error
int("12", 2)

# == int_from_float_truncates
[int(3.9), int(-3.9), int(1e20)]

# == int_from_inf_error
int(float("inf"))

# == int_from_nan_error
int(float("nan"))

# == int_from_bool
int(True) + int(False)

# == int_from_none_error
int(None)

# == float_parse_forms
[float("3.14"), float(" -2 "), float("1e3"), float("inf"), float("-Infinity"), float("1_0.5")]

# == float_parse_nan
s = float("nan")
s != s

# == float_parse_error
float("3,14")

# == float_parse_empty_error
float("")

# == float_from_big_int_error
float(10 ** 400)

# == bool_of_values
[bool(0), bool(0.0), bool(""), bool([]), bool({}), bool("0"), bool([0]), bool(None)]

# == int_true_division
[7 / 2, 6 / 3, -1 / 3]

# == division_by_zero_int
1 / 0

# == division_by_zero_float
1.0 / 0

# == floor_division_by_zero
5 // 0

# == modulo_by_zero
5 % 0

# == float_floor_division
[7.0 // 2, -7.0 // 2, 7 // 2.5]

# == int_float_comparison
[1 == 1.0, 0.1 + 0.2 == 0.3, 2 ** 53 + 1 == float(2 ** 53 + 1)]

# == chained_comparison
x = 5
[1 < x < 10, 1 < x > 10, 3 == 3.0 == 3]

# == hex_oct_bin
[hex(255), oct(8), bin(10), hex(-42), bin(0)]

# == int_bit_length_and_count
[(255).bit_length(), (0).bit_length(), (-8).bit_length(), bin(255).count("1")]

# == int_to_from_bytes
[(1024).to_bytes(2, "big").hex(), int.from_bytes(b"\x01\x00", "little")]

# == float_is_integer
[(3.0).is_integer(), (3.5).is_integer()]

# == float_as_integer_ratio
(0.75).as_integer_ratio()

# == complex_arithmetic_repr
z = (1 + 2j) * (3 - 1j)
repr(z)

# == complex_result_is_repr
(1 + 2j) ** 2

# == int_with_underscores_literal
1_000_000 + 0x_ff

# == big_int_result_is_string
2 ** 64

# == big_negative_int_result
-(2 ** 63) - 1

# == largest_u64_stays_number
2 ** 64 - 1

# == smallest_i64_stays_number
-(2 ** 63)

# == big_int_arithmetic
n = 1
for i in range(1, 26):
    n *= i
n

# == big_int_str_length
len(str(3 ** 1000))

# == int_division_big_exact
(10 ** 30) // 7

# == round_big_float_to_int
round(1e20)

# == float_int_mix_sum
sum([1, 2.5, 3])
