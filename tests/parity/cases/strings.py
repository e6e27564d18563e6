# String methods and str behaviour.

# == split_default_whitespace
"  a  b\tc\n d ".split()

# == split_separator
"a,b,,c".split(",")

# == split_maxsplit
"k=v=w".split("=", 1)

# == rsplit_maxsplit
"a.b.c.d".rsplit(".", 1)

# == split_empty_separator_error
"abc".split("")

# == splitlines
"one\ntwo\r\nthree\n".splitlines()

# == splitlines_keepends
"a\nb\n".splitlines(keepends=True)

# == partition_rpartition
["key: value: more".partition(": "), "a/b/c".rpartition("/"), "abc".partition("x")]

# == join_values
[", ".join(["a", "b"]), "".join([]), "-".join("abc")]

# == join_non_string_error
", ".join([1, 2])

# == strip_family
["  hi  ".strip(), "xxhixx".strip("x"), "  hi".lstrip(), "hi\n".rstrip(), "www.ex.com".strip("w.moc")]

# == removeprefix_removesuffix
["report.csv".removesuffix(".csv"), "Mr. Smith".removeprefix("Mr. "), "abc".removeprefix("x")]

# == case_methods
s = "hello WORLD ß"
[s.upper(), s.lower(), s.title(), s.capitalize(), s.swapcase(), s.casefold()]

# == title_apostrophe
"they're bill's friends".title()

# == startswith_tuple
[ "report.pdf".endswith((".pdf", ".doc")), "abc".startswith("b", 1), "abc".startswith(("x", "a"))]

# == find_index_count
s = "banana"
[s.find("an"), s.rfind("an"), s.find("x"), s.index("n"), s.count("a"), s.count("an"), s.count("")]

# == index_missing_error
"banana".index("x")

# == replace_count
["aaaa".replace("a", "b", 2), "abc".replace("", "-"), "a.b.c".replace(".", "")]

# == predicates
[ "123".isdigit(), "12.3".isdigit(), "abc".isalpha(), "abc1".isalnum(), "   ".isspace(),
  "Hello World".istitle(), "ABC".isupper(), "".isalpha(), "²".isdigit(), "²".isdecimal(),
  "x_1".isidentifier()]

# == zfill_center_ljust
["42".zfill(5), "-42".zfill(6), "ab".center(7, "*"), "ab".ljust(5, "."), "ab".rjust(5)]

# == center_odd_padding
["a".center(4, "*"), "ab".center(5, "*")]

# == expandtabs
"a\tbc\td".expandtabs(4)

# == str_multiply_and_in
["ab" * 3, "-" * 0, "ell" in "hello", "" in "x"]

# == string_comparison
["apple" < "banana", "Zebra" < "apple", "a" < "ab", "é" > "z"]

# == str_indexing_errors
"abc"[5]

# == str_immutable_error
s = "abc"
s[0] = "x"

# == str_concat_int_error
"total: " + 5

# == str_translate_maketrans
table = str.maketrans("abc", "xyz", "d")
"abcd-abcd".translate(table)

# == encode_decode
s = "héllo €"
[list(s.encode("utf-8")), s.encode("utf-8").decode("utf-8"), s.encode("ascii", "replace").decode()]

# == encode_error
"é".encode("ascii")

# == decode_error
b"\xff".decode("utf-8")

# == unicode_len_and_slicing
s = "naïve café 🎉"
[len(s), s[-1], s[:5], s[::-1]]

# == str_repr_escapes
[repr("a\nb"), repr("tab\t"), repr("quote'"), repr('dq"'), repr("both'\""), repr("\x00\x7f")]

# == str_repr_unicode
[repr("é"), repr("\u200b"), repr("🎉"), ascii("é🎉")]

# == format_with_str_methods
"{:>10}".format("right").replace(" ", ".")

# == string_iteration_counts
from collections import Counter
Counter("mississippi").most_common(2)

# == is_palindrome
s = "A man, a plan, a canal: Panama"
clean = [c.lower() for c in s if c.isalnum()]
clean == clean[::-1]

# == word_frequencies
text = "the cat and the hat and the bat"
freq = {}
for word in text.split():
    freq[word] = freq.get(word, 0) + 1
sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))

# == string_slicing_step
"0123456789"[1:8:3]

# == str_join_generator
" | ".join(str(n) for n in range(5))

# == str_bytes_mix_error
"a" + b"b"

# == bytes_operations
b = b"hello world"
[b.upper(), b.split(), b[0], b[:5], b.find(b"o"), len(b)]

# == bytes_repr
[repr(b"a\x00\xff"), repr(bytearray(b"hi")), str(b"x")]

# == bytes_result_decoded
b"caf\xc3\xa9"

# == bytes_result_invalid_utf8
b"\xff\xfeok"

# == bytearray_mutation
ba = bytearray(b"abc")
ba[0] = 65
ba.append(100)
ba.decode()

# == bytes_fromhex
bytes.fromhex("48656c6c6f")

# == str_count_overlap
"aaaa".count("aa")

# == str_splitlines_unicode_separators
"a\x1cb\u2028c".splitlines()

# == casefold_compare
"Straße".casefold() == "STRASSE".casefold()

# == str_isnumeric_fractions
["½".isnumeric(), "½".isdigit(), "Ⅻ".isnumeric()]

# == string_formatting_alignment_table
header = f"{'Name':<10}|{'Qty':>5}"
row = f"{'Widget':<10}|{3:>5}"
header + "\n" + row

# == str_lower_upper_special
["İ".lower(), "ß".upper(), "ﬁ".upper(), len("İ".lower())]

# == str_find_with_bounds
"hello hello".find("hello", 1, 20)

# == str_rindex_error
"abc".rindex("z")

# == str_max_min
[max("hello"), min("hello")]

# == str_sorted_characters
"".join(sorted("dcba"))

# == str_method_chain
"  Alice,Bob ,  carol ".strip().replace(" ", "").lower().split(",")

# == str_contains_case_insensitive
needle = "WoRlD"
needle.lower() in "Hello World".lower()

# == str_format_negative_zfill
f"{-5:03d}"

# == str_of_float_in_concat
"value: " + str(0.1 * 3)

# == str_title_with_numbers
"3rd place and 2nd-best".title()

# == str_split_rsplit_none_maxsplit
["  a b c  ".split(None, 1), "  a b c  ".rsplit(None, 1)]

# == str_isascii
["abc".isascii(), "é".isascii(), "".isascii()]

# == str_count_substring_range
"abcabcabc".count("abc", 1)

# == str_endswith_range
"filename.tar.gz".endswith(".tar", 0, 12)

# == multiline_string_dedent_manual
text = """
    line one
    line two
"""
[line.strip() for line in text.strip().splitlines()]

# == string_escape_sequences
len("a\tb\\n\x41\u0042\N{LATIN SMALL LETTER E WITH ACUTE}")

# == raw_string
r"C:\new\table"

# == str_mult_negative
"abc" * -1

# == chr_range_join
"".join(chr(ord("a") + i) for i in range(5))
