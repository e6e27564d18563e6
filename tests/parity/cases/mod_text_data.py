# calendar, pprint, difflib, base64, csv, io, time, random, uuid.

# == calendar_monthrange_isleap
import calendar
[calendar.monthrange(2024, 2), calendar.isleap(2100), calendar.leapdays(2000, 2025), calendar.weekday(2024, 7, 4)]

# == calendar_names
import calendar
[calendar.month_name[1], calendar.month_abbr[12], calendar.day_name[0], list(calendar.day_abbr)]

# == calendar_month_text
import calendar
calendar.month(2024, 2)

# == calendar_monthcalendar
import calendar
calendar.monthcalendar(2024, 9)

# == calendar_timegm
import calendar
calendar.timegm((2024, 1, 1, 0, 0, 0))

# == calendar_constants
import calendar
[calendar.MONDAY, calendar.SUNDAY]

# == pprint_pformat_wide
from pprint import pformat
pformat({"b": [1, 2, 3], "a": {"x": 1}})

# == pprint_pformat_narrow
from pprint import pformat
pformat({"key%d" % i: list(range(i)) for i in range(6)}, width=30)

# == pprint_print_sorted
import pprint
pprint.pprint({"z": 1, "a": [1, {"c": 2, "b": 3}]}, sort_dicts=True)

# == pprint_unsorted_depth
import pprint
pprint.pformat({"z": {"y": {"x": 1}}, "a": 0}, depth=2, sort_dicts=False)

# == difflib_ratio
import difflib
round(difflib.SequenceMatcher(None, "kitten", "sitting").ratio(), 6)

# == difflib_close_matches
import difflib
difflib.get_close_matches("appel", ["ape", "apple", "peach", "puppy"])

# == difflib_unified_diff
import difflib
a = ["one\n", "two\n", "three\n"]
b = ["one\n", "2\n", "three\n", "four\n"]
"".join(difflib.unified_diff(a, b, "old", "new"))

# == difflib_ndiff
import difflib
list(difflib.ndiff(["a", "b"], ["a", "c"]))

# == difflib_opcodes
import difflib
difflib.SequenceMatcher(None, "abcd", "abxd").get_opcodes()

# == base64_roundtrip
import base64
enc = base64.b64encode("héllo".encode())
[enc, base64.b64decode(enc).decode(), base64.urlsafe_b64encode(b"\xfb\xff"), base64.b16encode(b"hi")]

# == base64_decode_error
import base64
base64.b64decode("abc")

# == base64_b32_and_padding
import base64
[base64.b32encode(b"ab"), base64.b64encode(b"a"), base64.b64decode("YQ==")]

# == csv_reader
import csv, io
text = 'name,qty,note\nwidget,3,"has, comma"\ngadget,1,"quote ""x"""\n'
list(csv.reader(io.StringIO(text)))

# == csv_dictreader
import csv, io
rows = list(csv.DictReader(io.StringIO("a,b\n1,2\n3,4\n")))
[dict(r) for r in rows]

# == csv_writer
import csv, io
buf = io.StringIO()
w = csv.writer(buf)
w.writerow(["id", "text"])
w.writerow([1, 'say "hi", ok'])
w.writerow([2, None])
buf.getvalue()

# == csv_dictwriter
import csv, io
buf = io.StringIO()
w = csv.DictWriter(buf, fieldnames=["x", "y"], lineterminator="\n")
w.writeheader()
w.writerows([{"x": 1, "y": 2.5}, {"x": "a b", "y": ""}])
buf.getvalue()

# == csv_delimiter_quoting
import csv, io
buf = io.StringIO()
csv.writer(buf, delimiter=";", quoting=csv.QUOTE_NONNUMERIC).writerow(["a", 1, 2.5])
[buf.getvalue(), list(csv.reader(io.StringIO("x;y\n"), delimiter=";"))]

# == csv_sum_column
import csv, io
data = "region,amount\nEU,10.5\nUS,4\nEU,2.25\n"
totals = {}
for row in csv.DictReader(io.StringIO(data)):
    totals[row["region"]] = totals.get(row["region"], 0) + float(row["amount"])
totals

# == io_stringio
import io
s = io.StringIO()
s.write("line 1\n")
print("line 2", file=s)
[s.getvalue(), s.tell()]

# == io_stringio_read_lines
import io
f = io.StringIO("a\nb\nc")
[f.readline(), f.read(), f.readline(), list(io.StringIO("x\ny\n"))]

# == io_bytesio
import io
b = io.BytesIO()
b.write(b"abc")
b.write("é".encode())
b.seek(0)
[b.read(2), b.getvalue(), len(b.getvalue())]

# == io_stringio_closed_error
import io
s = io.StringIO("x")
s.close()
s.read()

# == time_strftime_fixed_struct
import time
t = time.struct_time((2024, 3, 5, 14, 7, 9, 1, 65, 0))
[time.strftime("%Y-%m-%d %H:%M:%S", t), time.strftime("%a %b %d", t), t.tm_yday]

# == time_gmtime_epoch
import time
g = time.gmtime(0)
[g.tm_year, g.tm_mon, g.tm_mday, g.tm_wday, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1700000000))]

# == time_types
import time
[type(time.time()).__name__, type(time.monotonic()).__name__, time.perf_counter() >= 0]

# == time_strptime
import time
t = time.strptime("2024-03-05", "%Y-%m-%d")
[t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_yday]

# == random_seeded_shapes
import random
rng = random.Random(42)
xs = [rng.random() for _ in range(5)]
[len(xs), all(0 <= x < 1 for x in xs), type(rng.randint(1, 6)).__name__]

# == random_choice_sample_shapes
import random
pool = list(range(100))
s = random.sample(pool, 10)
[len(s), len(set(s)), all(x in pool for x in s), random.choice("abc") in "abc", 1 <= random.randint(1, 3) <= 3]

# == random_shuffle_keeps_items
import random
xs = list(range(20))
random.shuffle(xs)
sorted(xs) == list(range(20))

# == random_uniform_gauss_types
import random
[type(random.uniform(1, 2)).__name__, type(random.gauss(0, 1)).__name__, 1 <= random.uniform(1, 2) <= 2]

# == random_seeded_same_sequence
import random
a, b = random.Random(7), random.Random(7)
[a.random() for _ in range(3)] == [b.random() for _ in range(3)]

# == random_sample_too_large_error
import random
random.sample([1, 2], 3)

# == random_choices_weights
import random
picks = random.choices(["a", "b"], weights=[1, 0], k=5)
picks

# == uuid_shape
import uuid
u = uuid.uuid4()
s = str(u)
[len(s), s.count("-"), u.version, s[14], len(u.hex)]

# == uuid_from_string
import uuid
u = uuid.UUID("12345678-1234-5678-1234-567812345678")
[str(u), u.hex, u.int % 1000, repr(u)]

# == uuid_uuid5_deterministic
import uuid
str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com"))

# == uuid_bad_string_error
import uuid
uuid.UUID("not-a-uuid")
