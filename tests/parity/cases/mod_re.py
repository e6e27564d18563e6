# The re module.

# == findall_numbers
import re
re.findall(r"-?\d+(?:\.\d+)?", "Paid 12.50 then -3 and 7")

# == findall_groups
import re
re.findall(r"(\w+)=(\d+)", "a=1, b=22, c=x")

# == search_group_named
import re
m = re.search(r"(?P<user>\w+)@(?P<domain>[\w.]+)", "contact: ann@example.com!")
[m.group("user"), m["domain"], m.span(), m.groupdict(), m.start("domain")]

# == match_vs_search
import re
[bool(re.match(r"\d", "a1")), bool(re.search(r"\d", "a1")), bool(re.fullmatch(r"\d+", "123"))]

# == match_none_result
import re
re.match(r"\d+", "abc")

# == sub_basic
import re
re.sub(r"\s+", " ", "  too   many    spaces ")

# == sub_backref
import re
re.sub(r"(\d{4})-(\d{2})-(\d{2})", r"\3/\2/\1", "born 1990-07-14")

# == sub_named_backref
import re
re.sub(r"(?P<first>\w+) (?P<last>\w+)", r"\g<last>, \g<first>", "Ada Lovelace")

# == sub_function
import re
re.sub(r"\d+", lambda m: str(int(m.group()) * 2), "3 apples and 10 pears")

# == subn_count
import re
re.subn(r"a", "o", "banana", count=2)

# == split_pattern
import re
[re.split(r"[,;]\s*", "a, b;c ;d"), re.split(r"(\d)", "a1b2c"), re.split(r"x", "axbxc", maxsplit=1)]

# == flags_ignorecase_multiline
import re
text = "First line\nsecond Line\nthird"
[re.findall(r"^\w+", text, re.M), re.findall(r"line", text, re.I)]

# == dotall_flag
import re
[re.search(r"a.b", "a\nb"), bool(re.search(r"a.b", "a\nb", re.S))]

# == verbose_pattern
import re
pattern = re.compile(r"""
    (\d{3})   # area
    [-.\s]?
    (\d{4})   # number
""", re.X)
pattern.findall("call 555-1234 or 555 9876")

# == compiled_pattern_methods
import re
p = re.compile(r"[aeiou]")
[p.pattern, len(p.findall("education")), p.sub("*", "hello"), p.flags & re.I]

# == finditer_positions
import re
[(m.start(), m.group()) for m in re.finditer(r"o", "foo boo")]

# == greedy_vs_lazy
import re
[re.findall(r"<.+>", "<a><b>"), re.findall(r"<.+?>", "<a><b>")]

# == lookahead_lookbehind
import re
[re.findall(r"\w+(?=!)", "hi! there yo!"), re.findall(r"(?<=\$)\d+", "$10 and $25")]

# == escape
import re
re.escape("a.b*c?(d)")

# == bad_pattern_error
import re
re.compile(r"(unclosed")

# == bad_pattern_message
import re
try:
    re.compile("a{2,1}")
except re.error as e:
    result = str(e)

# == group_index_error
import re
re.match(r"(a)", "a").group(2)

# == unicode_word
import re
re.findall(r"\w+", "naïve café 42")

# == ascii_flag
import re
re.findall(r"\w+", "naïve café", re.A)

# == match_groups_default
import re
re.match(r"(a)(b)?", "a").groups(default="-")

# == fullmatch_email_like
import re
pattern = r"[\w.+-]+@[\w-]+\.[\w.]+"
[bool(re.fullmatch(pattern, e)) for e in ["a@b.co", "bad@", "x.y+z@mail.example.org"]]

# == sub_empty_matches
import re
re.sub(r"x*", "-", "abc")

# == split_on_empty_pattern
import re
re.split(r"\b", "hi you")

# == match_object_repr
import re
repr(re.match(r"\d+", "123abc"))

# == pattern_repr
import re
repr(re.compile(r"\d+", re.I))

# == extract_key_values
import re
log = "user=ann status=200 ms=35; user=bob status=500 ms=120"
[dict(re.findall(r"(\w+)=(\w+)", part)) for part in log.split(";")]

# == template_replacement_escape
import re
re.sub(r"(\w+)", r"[\1]", "a b")

# == sub_bad_escape_error
import re
re.sub(r"a", r"\q", "a")

# == conditional_and_backreference
import re
[bool(re.fullmatch(r"(\w)\w*\1", w)) for w in ["abca", "abcd", "xx"]]

# == findall_overlap_via_lookahead
import re
len(re.findall(r"(?=aa)", "aaaa"))

# == possessive_like_atomic
import re
re.findall(r"\d{2,3}", "12345678")

# == findall_long_ascii_text_one_group
import re
text = "\n".join(f"client {i}: aum={i * 37 % 10007} region=EU" for i in range(2_000))
found = re.findall(r"aum=(\d+)", text)
[len(found), found[:3], found[-2:], sum(map(int, found))]

# == findall_long_ascii_text_no_group_and_two_groups
import re
text = ";".join(f"k{i}={i * i}" for i in range(3_000))
whole = re.findall(r"k\d+=\d+", text)
pairs = re.findall(r"k(\d+)=(\d+)", text)
[len(whole), whole[:2], len(pairs), pairs[:2], pairs[-1]]

# == findall_long_ascii_text_empty_and_missing_groups
import re
text = "x" * 5_000 + "a1 b c3 " * 700
[re.findall(r"[abc](\d?)", text)[:6], re.findall(r"([ab])(\d)?", text)[:4], re.findall(r"q*", "y" * 4_100)[:3]]

# == findall_long_ascii_text_with_nul_and_no_match
import re
text = "id=1\x00id=22\x00" * 600
[re.findall(r"id=(\d+)", text)[:3], len(re.findall(r"id=(\d+)", text)), re.findall(r"zzz", text)]
