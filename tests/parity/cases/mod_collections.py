# The collections module.

# == counter_most_common
from collections import Counter
Counter("abracadabra").most_common(3)

# == counter_arithmetic
from collections import Counter
a, b = Counter(a=3, b=1), Counter(a=1, b=2)
[a + b, a - b, a & b, a | b]

# == counter_update_subtract
from collections import Counter
c = Counter(["x", "y"])
c.update(["x", "z"])
c.subtract({"y": 2})
dict(c)

# == counter_missing_is_zero
from collections import Counter
Counter()["nothing"]

# == counter_total_elements
from collections import Counter
c = Counter(a=2, b=1)
[c.total(), sorted(c.elements())]

# == counter_repr
from collections import Counter
repr(Counter("aab"))

# == counter_most_common_ties_order
from collections import Counter
Counter(["b", "a", "c", "a", "b"]).most_common()

# == defaultdict_list_grouping
from collections import defaultdict
groups = defaultdict(list)
for name, team in [("ann", "red"), ("bob", "blue"), ("cid", "red")]:
    groups[team].append(name)
dict(groups)

# == defaultdict_int_counting
from collections import defaultdict
counts = defaultdict(int)
for ch in "hello":
    counts[ch] += 1
counts

# == defaultdict_repr
from collections import defaultdict
d = defaultdict(list)
d["a"].append(1)
repr(d)

# == defaultdict_no_factory_keyerror
from collections import defaultdict
defaultdict()["x"]

# == defaultdict_nested
from collections import defaultdict
tree = defaultdict(lambda: defaultdict(int))
tree["a"]["x"] += 1
tree["a"]["y"] += 2
tree["b"]["x"] += 3
{k: dict(v) for k, v in tree.items()}

# == ordereddict_move_to_end
from collections import OrderedDict
od = OrderedDict.fromkeys("abcd")
od.move_to_end("b")
od.move_to_end("d", last=False)
list(od)

# == ordereddict_popitem
from collections import OrderedDict
od = OrderedDict(a=1, b=2, c=3)
[od.popitem(), od.popitem(last=False), list(od.items())]

# == ordereddict_repr
from collections import OrderedDict
repr(OrderedDict(a=1))

# == ordereddict_equality_order
from collections import OrderedDict
[OrderedDict(a=1, b=2) == OrderedDict(b=2, a=1), OrderedDict(a=1, b=2) == {"b": 2, "a": 1}]

# == deque_ops
from collections import deque
d = deque([1, 2, 3], maxlen=4)
d.append(4)
d.append(5)
d.appendleft(0)
d.rotate(1)
list(d)

# == deque_repr_and_pop
from collections import deque
d = deque("abc")
[d.pop(), d.popleft(), repr(d), d.maxlen]

# == deque_empty_pop_error
from collections import deque
deque().pop()

# == deque_sliding_window
from collections import deque
window, out = deque(maxlen=3), []
for x in [1, 2, 3, 4, 5]:
    window.append(x)
    if len(window) == 3:
        out.append(sum(window) / 3)
out

# == namedtuple_basics
from collections import namedtuple
Point = namedtuple("Point", ["x", "y"])
p = Point(1, y=2)
[p, p.x + p.y, p._asdict(), p._replace(x=5), repr(p)]

# == namedtuple_defaults
from collections import namedtuple
Row = namedtuple("Row", "id name active", defaults=[True])
[repr(Row(1, "a")), Row._fields]

# == namedtuple_missing_arg_error
from collections import namedtuple
P = namedtuple("P", "x y")
P(1)

# == namedtuple_bad_field_error
from collections import namedtuple
namedtuple("Bad", ["ok", "class"])

# == namedtuple_unpack_and_sort
from collections import namedtuple
Emp = namedtuple("Emp", "name salary")
staff = [Emp("a", 3), Emp("b", 1)]
[e.name for e in sorted(staff, key=lambda e: e.salary)]

# == chainmap_lookup
from collections import ChainMap
defaults = {"color": "red", "size": "M"}
overrides = {"size": "L"}
cm = ChainMap(overrides, defaults)
[cm["size"], cm["color"], len(cm), sorted(cm)]

# == chainmap_new_child
from collections import ChainMap
base = ChainMap({"a": 1})
child = base.new_child({"a": 2})
[child["a"], child.parents["a"]]

# == abc_isinstance
from collections.abc import Mapping, Sequence, Iterable
[isinstance({}, Mapping), isinstance([], Sequence), isinstance("s", Sequence), isinstance(5, Iterable)]

# == userdict_subclass
from collections import UserDict
class Lower(UserDict):
    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

d = Lower()
d["ABC"] = 1
dict(d)

# == counter_from_words_top
from collections import Counter
words = "red blue red green blue red".split()
[w for w, _ in Counter(words).most_common(2)]

# == counter_comparison
from collections import Counter
Counter(a=1) <= Counter(a=2, b=1)

# == deque_index_and_insert
from collections import deque
d = deque([1, 2, 3])
d.insert(1, 9)
[list(d), d.index(3), d[0], d[-1]]
