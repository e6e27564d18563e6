# The json module.

# == dumps_default
import json
json.dumps({"a": [1, 2.5, None, True], "b": "é"})

# == dumps_indent_sorted
import json
json.dumps({"b": 1, "a": {"y": [1, 2], "x": {}}}, indent=2, sort_keys=True)

# == dumps_separators
import json
json.dumps({"a": 1, "b": [1, 2]}, separators=(",", ":"))

# == dumps_ensure_ascii_false
import json
json.dumps({"name": "café ☕"}, ensure_ascii=False)

# == dumps_float_repr
import json
json.dumps([0.1 + 0.2, 1e16, 1.0, -0.0, 1e-7, 123456789.123])

# == dumps_nan_inf
import json
json.dumps([float("nan"), float("inf"), -float("inf")])

# == dumps_nan_not_allowed
import json
json.dumps(float("nan"), allow_nan=False)

# == dumps_non_str_keys
import json
json.dumps({1: "a", 2.5: "b", True: "c", None: "d"})

# == dumps_tuple_as_list
import json
json.dumps({"t": (1, 2)})

# == dumps_not_serializable
import json
json.dumps({"when": {1, 2}})

# == dumps_default_hook
import json, datetime
json.dumps({"d": datetime.date(2024, 5, 1)}, default=str)

# == dumps_big_int
import json
json.dumps(2 ** 80)

# == dumps_indent_empty_containers
import json
json.dumps({"a": [], "b": {}, "c": [1]}, indent=1)

# == dumps_indent_string
import json
json.dumps([1, [2]], indent="\t")

# == loads_basic
import json
json.loads('{"a": [1, 2.5, null, true, false], "b": "\\u00e9"}')

# == loads_float_exact
import json
json.loads("[0.30000000000000004, 1e400, -0.0, 1E2]")

# == loads_big_int
import json
json.loads("123456789012345678901234567890")

# == loads_duplicate_keys_last_wins
import json
json.loads('{"a": 1, "a": 2}')

# == loads_error_message
import json
json.loads('{"a": 1,}')

# == loads_error_caught
import json
try:
    json.loads("[1, 2")
except json.JSONDecodeError as e:
    result = [e.msg, e.pos, e.lineno, e.colno]

# == loads_empty_error
import json
json.loads("")

# == loads_nan_literal
import json
json.loads("[NaN, Infinity]")

# == loads_parse_float_hook
import json
from decimal import Decimal
str(json.loads('{"price": 19.99}', parse_float=Decimal)["price"])

# == loads_object_hook
import json
json.loads('{"a": {"b": 1}}', object_hook=lambda d: sorted(d))

# == roundtrip_nested
import json
data = {"users": [{"id": 1, "tags": ["a"]}, {"id": 2, "tags": []}], "n": 2}
json.loads(json.dumps(data)) == data

# == dumps_unicode_escapes
import json
json.dumps("line\nbreak\t\"q\" \u2028 \x00")

# == dumps_nested_separators_indent
import json
print(json.dumps({"a": {"b": [1, {"c": None}]}}, indent=4))

# == dumps_cls_encoder
import json
class SetEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)

json.dumps({"s": {3, 1, 2}}, cls=SetEncoder)

# == loads_bytes_input
import json
json.loads(b'{"x": 1}')

# == json_reshape_records
import json
raw = '[{"id": 1, "region": "EU", "amount": 10.5}, {"id": 2, "region": "US", "amount": 4}, {"id": 3, "region": "EU", "amount": 2.25}]'
rows = json.loads(raw)
by_region = {}
for row in rows:
    by_region.setdefault(row["region"], []).append(row["id"])
json.dumps(by_region, sort_keys=True)

# == dumps_skipkeys
import json
json.dumps({(1, 2): "x", "ok": 1}, skipkeys=True)

# == dumps_tuple_key_error
import json
json.dumps({(1, 2): "x"})

# == dumps_every_setting_and_odd_value
import json
vals = [{"a": [1, 2.5, None, True, False, "x\"y\\z\n\t\x01\x7f é 😀 \u2028"], "b": {}, "c": [], 1: 2, 2.5: "f", None: 0, True: 1, "k": (1, 2)},
        [1e16, 1e-5, 0.1, -0.0, 1.0, 123456789012345678901234567890, float("inf"), float("nan"), 1e308*10],
        {"z": 1, "a": {"y": [1, {"b": 2}]}}, "plain", 5, [[[]]], {"x": {"y": {}}}]
out = []
for v in vals:
    out.append(json.dumps(v))
    out.append(json.dumps(v, ensure_ascii=False))
    out.append(json.dumps(v, indent=2))
    out.append(json.dumps(v, indent="\t", separators=(",", ":")))
    try: out.append(json.dumps(v, sort_keys=True))
    except TypeError as e: out.append("TypeError " + str(e))
    try: out.append(json.dumps(v, allow_nan=False))
    except ValueError as e: out.append("ValueError")
out
