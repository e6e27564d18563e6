# format(), str.format and f-string format specs.

# == fstring_string_precision_width
f'{"xylophone":10.5}|'

# == fstring_string_align
[f"{'ab':<6}|", f"{'ab':>6}|", f"{'ab':^6}|", f"{'ab':^7}|"]

# == fstring_fill_char
[f"{'ab':*<6}", f"{'ab':->6}", f"{'ab':.^7}", f"{7:0>4}"]

# == fstring_int_width_default_right
f"[{42:5}]"

# == fstring_string_default_left
f"[{'x':5}]"

# == fstring_float_fixed
[f"{3.14159:.2f}", f"{2.5:.0f}", f"{3.5:.0f}", f"{-0.001:.2f}"]

# == fstring_float_fixed_ties
[f"{0.125:.2f}", f"{0.375:.2f}", f"{2.675:.2f}", f"{1.005:.2f}"]

# == fstring_thousands_comma
[f"{1234567:,}", f"{1234567.891:,.2f}", f"{-1234:,}", f"{999:,}"]

# == fstring_thousands_underscore
[f"{1234567:_}", f"{0xFFFFFFFF:_x}", f"{255:_b}"]

# == fstring_percent
[f"{0.256:.1%}", f"{1:%}", f"{0.5:.0%}", f"{-0.0125:.2%}"]

# == fstring_exponent
[f"{12345.678:e}", f"{12345.678:.2e}", f"{0.00012:E}", f"{0:.1e}"]

# == fstring_general
[f"{12345.678:g}", f"{0.00001234:g}", f"{123456789:g}", f"{1.0:g}", f"{1e100:.3g}"]

# == fstring_general_precision
[f"{3.14159:.3g}", f"{1234.5:.2g}", f"{0.0001:.2g}", f"{100:.2g}"]

# == fstring_general_alternate
[f"{1.0:#g}", f"{12:#.3g}"]

# == fstring_hex_octal_binary
[f"{255:x}", f"{255:X}", f"{8:o}", f"{5:b}", f"{255:#x}", f"{8:#o}", f"{5:#b}"]

# == fstring_hex_zero_pad
[f"{255:#06x}", f"{7:08b}", f"{3:#010b}"]

# == fstring_sign
[f"{5:+}", f"{-5:+}", f"{5: }", f"{-5: }", f"{5:-}", f"{3.0:+.1f}"]

# == fstring_zero_padding_negative
[f"{-42:05}", f"{-3.5:08.2f}", f"{42:=+6}"]

# == fstring_sign_aware_fill
[f"{-42:*=8}", f"{42:*=+8}"]

# == fstring_nested_spec
width, precision = 10, 3
f"[{3.14159265:{width}.{precision}f}]"

# == fstring_nested_fill_align
fill, align = "#", ">"
f"{'hi':{fill}{align}8}"

# == fstring_conversion_r
name = "O'Neil"
[f"{name!r}", f"{name!s}", f"{'é'!a}"]

# == fstring_debug_equals
x = 42
f"{x=}, {x * 2 = }"

# == fstring_debug_equals_format
price = 3.14159
f"{price=:.2f}"

# == fstring_braces_escape
f"{{literal}} {1 + 1}"

# == fstring_int_with_float_type
f"{7:.2f}"

# == fstring_float_with_int_type_error
f"{7.5:d}"

# == fstring_string_with_number_spec_error
f"{'abc':d}"

# == fstring_none_format_error
f"{None:>5}"

# == fstring_none_plain
f"{None}|{True}|{[1, 'a']}"

# == fstring_bool_numeric_spec
[f"{True:d}", f"{True:>5}", f"{False:.1f}"]

# == fstring_comma_with_string_error
f"{'abc':,}"

# == fstring_comma_and_underscore_error
f"{1000:,_}"

# == fstring_percent_big
f"{12.3456:.1%}"

# == fstring_negative_zero_format
[f"{-0.0:.1f}", f"{-0.0001:.2f}", f"{-0.0}"]

# == fstring_inf_nan_format
[f"{float('inf'):.2f}", f"{float('-inf'):10.1f}|", f"{float('nan'):.3e}", f"{float('inf'):,}"]

# == fstring_large_float_fixed
f"{1e22:.0f}"

# == fstring_float_no_type
[f"{1e16:}", f"{0.1:}", f"{1.5:10}|", f"{1e-7:.3}"]

# == fstring_float_default_precision_repr
f"{2/3}"

# == fstring_width_with_comma
f"{1234567.5:>15,.1f}|"

# == fstring_center_number
f"|{42:^9}|"

# == fstring_precision_on_int_error
f"{42:.2}"

# == fstring_char_type
f"{65:c}{66:c}"

# == fstring_n_type
f"{1234567:n}"

# == fstring_datetime
import datetime
d = datetime.datetime(2024, 3, 5, 14, 7, 9)
f"{d:%Y-%m-%d %H:%M} | {d:%d/%m/%y} | {d:%A %B %j}"

# == fstring_date_default_str
import datetime
f"{datetime.date(2024, 1, 31)}"

# == fstring_multiline_table
rows = [("apple", 1.5, 10), ("kiwi", 0.25, 200)]
lines = [f"{name:<8}{price:>8.2f}{qty:>6}" for name, price, qty in rows]
"\n".join(lines)

# == format_builtin
[format(3.14159, ".3f"), format(255, "08b"), format("x", "^5"), format(1234, ",")]

# == format_builtin_no_spec
[format(1.5), format([1, 2]), format(None)]

# == str_format_positional
"{} + {} = {}".format(1, 2, 3)

# == str_format_indexed
"{1}{0}{1}".format("a", "b")

# == str_format_named
"{name} is {age:d} years".format(name="Ann", age=30)

# == str_format_attribute_and_index
point = {"x": 3, "y": [4, 5]}
"{0[x]} {0[y][1]}".format(point)

# == str_format_nested_spec
"{:{}.{}f}".format(3.14159, 8, 2)

# == str_format_conversion
"{!r:>8}".format("a")

# == str_format_missing_index_error
"{} {}".format(1)

# == str_format_missing_key_error
"{name}".format(nom="x")

# == str_format_mixing_manual_auto_error
"{0} {}".format(1, 2)

# == str_format_map
"{a}-{b}".format_map({"a": 1, "b": 2})

# == percent_format
["%d items" % 5, "%.2f" % 3.14159, "%s and %r" % ("a", "b"), "%5s|%-5s|" % ("x", "y")]

# == percent_format_dict
"%(name)s has %(n)03d" % {"name": "box", "n": 7}

# == percent_format_hex_exp
["%x" % 255, "%#o" % 8, "%e" % 12345.6789, "%g" % 0.0001, "%+d" % 3]

# == percent_format_not_enough_args
"%s %s" % ("a",)

# == percent_format_too_many_args
"%s" % ("a", "b")

# == percent_literal
"%d%%" % 50

# == fstring_invalid_spec_error
f"{3.5:q}"

# == format_invalid_spec_for_str
format("abc", ".2f")

# == fstring_width_from_len
names = ["a", "bbbb", "cc"]
w = max(map(len, names))
[f"{n:>{w}}" for n in names]

# == fstring_decimal_places_variable
digits = 4
f"{22 / 7:.{digits}f}"

# == fstring_exponent_big_number
f"{6.02214076e23:.3e}"

# == fstring_g_switches_to_exp
[f"{1e-5:g}", f"{1e-4:g}", f"{1e15:g}", f"{1e16:g}", f"{123456:g}", f"{1234567:g}"]

# == fstring_int_g_and_e
[f"{10 ** 20:g}", f"{12:e}", f"{12:%}"]

# == fstring_big_int_comma
f"{2 ** 70:,}"

# == fstring_thousands_with_zero_pad
f"{1234:010,}"

# == fstring_alternate_fixed
f"{3:#.0f}"

# == format_bytes_hex
b"\x00\xffab".hex()

# == fstring_nested_quotes_and_dict
d = {"key": "value"}
f"{d['key']:>8}"

# == str_format_thousands_float_g
"{:,.6g}".format(1234567.891)

# == fstring_exponent_three_digits
f"{1e-100:e}"

# == fstring_percent_rounding
[f"{0.125:.0%}", f"{0.135:.1%}"]

# == fstring_precision_string_truncate
f"{'abcdefgh':.3}"

# == format_float_fixed_many_digits
f"{0.1:.20f}"

# == format_float_exact_big_fixed
f"{2 ** 0.5:.30f}"

# == format_int_big_precision_f
f"{12345678901234567890:.2f}"

# == format_bool_str
format(True, "")

# == format_round_half_even_in_format
[f"{0.5:.0f}", f"{1.5:.0f}", f"{2.5:.0f}", f"{-0.5:.0f}"]

# == string_precision_then_alignment
[format("ab", ">10.1"), format("xylophone", "*^9.3s"), "{:.2}|{:>6.3}|".format("abc", "defgh"), f"{'wide':_<8.2}"]

# == string_precision_only_and_fill_dot
[format("abcdef", ".3"), format("ab", ".>5"), format("ab", ".^6.1"), format("", "5.0") + "|"]

# == string_table_columns_cut_and_padded
rows = [("Amelia Reid", 1250000.5), ("Bartholomew Featherstonehaugh", 72.25)]
"\n".join(f"{name:12.12}|{aum:>12,.2f}" for name, aum in rows)

# == string_precision_errors_keep_cpython_types
out = []
for spec in ["10.2d", ",.2", "=10.3"]:
    try:
        out.append(format("abc", spec))
    except (ValueError, TypeError) as error:
        out.append(type(error).__name__)
out

# == string_equals_alignment_refused_and_equals_as_fill
out = [format("ab", "=^6"), format("ab", "=<4")]
for spec in ["=10", "*=5", "=8.1", "="]:
    try:
        out.append(format("ab", spec))
    except ValueError as error:
        out.append(str(error))
out
