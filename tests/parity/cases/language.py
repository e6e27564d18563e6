# Language features: classes, generators, closures, comprehensions, unpacking, match,
# containers.

# == class_repr_and_str
class Money:
    def __init__(self, amount, ccy):
        self.amount, self.ccy = amount, ccy
    def __repr__(self):
        return f"Money({self.amount!r}, {self.ccy!r})"
    def __str__(self):
        return f"{self.amount:.2f} {self.ccy}"

m = Money(5, "EUR")
[repr(m), str(m), f"{m}", f"{m!r}"]

# == class_result_uses_repr
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __repr__(self):
        return f"Point({self.x}, {self.y})"

Point(1, 2)

# == class_operators
class Vec:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y)
    def __mul__(self, k):
        return Vec(self.x * k, self.y * k)
    __rmul__ = __mul__
    def __eq__(self, o):
        return (self.x, self.y) == (o.x, o.y)
    def __repr__(self):
        return f"Vec({self.x}, {self.y})"

[repr(Vec(1, 2) + Vec(3, 4)), repr(2 * Vec(1, 1)), Vec(1, 1) == Vec(1, 1), Vec(1, 1) != Vec(1, 2)]

# == class_property_setter
class Temp:
    def __init__(self):
        self._c = 0.0
    @property
    def f(self):
        return self._c * 9 / 5 + 32
    @f.setter
    def f(self, value):
        self._c = (value - 32) * 5 / 9

t = Temp()
t.f = 212
[t.f, round(t._c, 6)]

# == class_property_no_setter_error
class A:
    @property
    def x(self):
        return 1

A().x = 2

# == class_classmethod_staticmethod
class Date:
    def __init__(self, y, m, d):
        self.y, self.m, self.d = y, m, d
    @classmethod
    def parse(cls, s):
        return cls(*map(int, s.split("-")))
    @staticmethod
    def is_leap(y):
        return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)

d = Date.parse("2024-02-29")
[d.y, d.m, d.d, Date.is_leap(1900), Date.is_leap(2000)]

# == class_inheritance_super
class Animal:
    def __init__(self, name):
        self.name = name
    def speak(self):
        return f"{self.name} makes a sound"

class Dog(Animal):
    def speak(self):
        return super().speak() + " (woof)"

[Dog("Rex").speak(), isinstance(Dog("x"), Animal), Dog.__mro__[1].__name__]

# == class_multiple_inheritance_mro
class A:
    def who(self):
        return "A"
class B(A):
    def who(self):
        return "B" + super().who()
class C(A):
    def who(self):
        return "C" + super().who()
class D(B, C):
    def who(self):
        return "D" + super().who()

[D().who(), [k.__name__ for k in D.__mro__]]

# == class_dunder_len_iter_contains
class Bag:
    def __init__(self, *items):
        self.items = list(items)
    def __len__(self):
        return len(self.items)
    def __iter__(self):
        return iter(self.items)
    def __contains__(self, x):
        return x in self.items
    def __getitem__(self, i):
        return self.items[i]

b = Bag(3, 1, 2)
[len(b), sorted(b), 2 in b, b[-1], list(reversed(b)), bool(Bag())]

# == class_eq_hash
class Key:
    def __init__(self, k):
        self.k = k
    def __eq__(self, o):
        return isinstance(o, Key) and o.k == self.k
    def __hash__(self):
        return hash(self.k)

len({Key(1), Key(1), Key(2)})

# == class_eq_without_hash_unhashable
class K:
    def __eq__(self, o):
        return True

{K()}

# == class_lt_for_sorting
class Job:
    def __init__(self, pri, name):
        self.pri, self.name = pri, name
    def __lt__(self, other):
        return self.pri < other.pri

[j.name for j in sorted([Job(3, "c"), Job(1, "a"), Job(2, "b")])]

# == class_slots_error
class P:
    __slots__ = ("x",)

p = P()
p.y = 1

# == class_attribute_vs_instance
class Counter:
    count = 0
    def __init__(self):
        Counter.count += 1
        self.id = Counter.count

a, b = Counter(), Counter()
[a.id, b.id, Counter.count, a.count]

# == class_getattr_fallback
class Config:
    def __init__(self, data):
        self._data = data
    def __getattr__(self, name):
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}") from None

c = Config({"debug": True})
[c.debug, getattr(c, "level", "info")]

# == class_call_dunder
class Multiplier:
    def __init__(self, k):
        self.k = k
    def __call__(self, x):
        return x * self.k

list(map(Multiplier(3), [1, 2, 3]))

# == class_default_repr_shape
class Plain:
    pass

r = repr(Plain())
[r.startswith("<__main__.Plain object at 0x"), r.endswith(">")]

# == class_name_qualname
class Outer:
    class Inner:
        pass

[Outer.Inner.__name__, Outer.Inner.__qualname__, Outer.__module__]

# == generator_function
def countdown(n):
    while n > 0:
        yield n
        n -= 1

list(countdown(4))

# == generator_send
def acc():
    total = 0
    while True:
        x = yield total
        total += x

g = acc()
next(g)
[g.send(5), g.send(10)]

# == generator_yield_from
def inner():
    yield 1
    yield 2
    return "r"

def outer():
    r = yield from inner()
    yield r

list(outer())

# == generator_expression_lazy
calls = []
def f(x):
    calls.append(x)
    return x * 2

g = (f(x) for x in range(5))
first = next(g)
[first, calls]

# == closure_counter
def make_counter():
    count = 0
    def inc():
        nonlocal count
        count += 1
        return count
    return inc

c = make_counter()
[c(), c(), c()]

# == closure_late_binding
fs = [lambda: i for i in range(3)]
[f() for f in fs]

# == closure_default_binding
fs = [lambda i=i: i for i in range(3)]
[f() for f in fs]

# == global_statement
total = 0
def add(n):
    global total
    total += n

add(3)
add(4)
total

# == default_mutable_argument_shared
def append(x, acc=[]):
    acc.append(x)
    return acc

append(1)
append(2)

# == args_kwargs
def f(a, *args, b=0, **kw):
    return [a, args, b, kw]

f(1, 2, 3, b=4, c=5)

# == keyword_unpacking
def f(a, b, c):
    return a * 100 + b * 10 + c

[f(*[1, 2], **{"c": 3}), f(**{"c": 1, "a": 2, "b": 3})]

# == extended_unpacking
first, *middle, last = [1, 2, 3, 4, 5]
(a, b), c = (1, 2), 3
[first, middle, last, a, b, c]

# == swap_and_chained_assign
a = b = [0]
x, y = 1, 2
x, y = y, x
[a is b, x, y]

# == walrus_in_comprehension
data = [1, 5, 12, 7, 20]
[y for x in data if (y := x * 2) > 10]

# == walrus_while
items = [3, 2, 1]
out = []
while (n := len(items)) > 1:
    out.append(items.pop())
[out, n]

# == comprehension_nested
[(x, y) for x in range(3) for y in range(x)]

# == dict_set_comprehension
words = ["apple", "Bob", "cat", "Apple"]
[{w.lower() for w in words} == {"apple", "bob", "cat"}, {w: len(w) for w in words}]

# == conditional_expression
["even" if n % 2 == 0 else "odd" for n in range(4)]

# == match_literal_and_capture
def http(status):
    match status:
        case 200 | 201:
            return "ok"
        case 404:
            return "not found"
        case int(code) if code >= 500:
            return f"server error {code}"
        case _:
            return "other"

[http(200), http(404), http(503), http(302)]

# == match_mapping_and_sequence
def describe(event):
    match event:
        case {"type": "click", "pos": [x, y]}:
            return f"click at {x},{y}"
        case {"type": "key", "key": str(k)}:
            return f"key {k}"
        case [first, *rest]:
            return f"list starting {first} with {len(rest)} more"
        case _:
            return "unknown"

[describe({"type": "click", "pos": [3, 4]}), describe({"type": "key", "key": "a", "extra": 1}), describe([1, 2, 3]), describe(5)]

# == match_class_pattern
from dataclasses import dataclass
@dataclass
class Pt:
    x: int
    y: int

def where(p):
    match p:
        case Pt(x=0, y=0):
            return "origin"
        case Pt(x=0):
            return "y-axis"
        case Pt(x, y) if x == y:
            return "diagonal"
        case Pt():
            return "elsewhere"

[where(Pt(0, 0)), where(Pt(0, 5)), where(Pt(2, 2)), where(Pt(1, 3))]

# == for_else_break
def find(xs, target):
    for i, x in enumerate(xs):
        if x == target:
            break
    else:
        return -1
    return i

[find([4, 5, 6], 5), find([4, 5, 6], 9)]

# == while_continue
out, i = [], 0
while i < 10:
    i += 1
    if i % 3:
        continue
    out.append(i)
out

# == try_finally_return_override
def f():
    try:
        return "try"
    finally:
        print("cleanup")

f()

# == lambda_sort_and_map
pairs = [(1, "one"), (3, "three"), (2, "two")]
list(map(lambda p: p[1], sorted(pairs, key=lambda p: -p[0])))

# == dict_methods
d = {"a": 1, "b": 2}
d.update(c=3)
d.setdefault("a", 100)
d.setdefault("z", 0)
popped = d.pop("b")
[d, popped, d.get("q"), d.get("q", "dflt"), list(d.keys()), list(d.values())]

# == dict_merge_operators
a, b = {"x": 1, "y": 2}, {"y": 20, "z": 30}
c = a | b
a |= {"w": 0}
[c, a]

# == dict_order_preserved_after_update
d = {"b": 1, "a": 2}
d["c"] = 3
d["b"] = 10
del d["a"]
d["a"] = 4
d

# == dict_popitem_lifo
d = {"a": 1, "b": 2, "c": 3}
[d.popitem(), d]

# == dict_fromkeys_shared
d = dict.fromkeys(["a", "b"], [])
d["a"].append(1)
d

# == dict_iteration_mutation_error
d = {"a": 1, "b": 2}
for k in d:
    d[k + "x"] = 0

# == dict_views_set_ops
a = {"x": 1, "y": 2}
b = {"y": 3, "z": 4}
[sorted(a.keys() & b.keys()), sorted(a.keys() | b.keys()), sorted(a.items() - {("x", 1)})]

# == dict_comparison_and_repr
[{"a": 1, "b": 2} == {"b": 2, "a": 1}, repr({"k": [1, {"n": None}], 2: (3,)})]

# == list_methods
xs = [3, 1, 4]
xs.append(1)
xs.extend([5, 9])
xs.insert(0, 2)
xs.remove(1)
popped = xs.pop(2)
[xs, popped, xs.count(1), xs.index(5)]

# == list_slice_assignment
xs = list(range(6))
xs[1:3] = ["a", "b", "c"]
xs[::2] = [0, 0, 0, 0]
del xs[-1]
xs

# == list_extended_slice_size_error
xs = list(range(6))
xs[::2] = [1, 2]

# == list_multiply_aliasing
grid = [[0] * 3] * 2
grid[0][0] = 1
grid

# == list_comparison
[[1, 2] < [1, 3], [1, 2] < [1, 2, 0], [2] > [1, 9, 9], [] == []]

# == tuple_methods_and_hash
t = (1, 2, 2, 3)
[t.count(2), t.index(3), hash((1, 2)) == hash((1, 2)), (1,) + (2,), t[1:3]]

# == tuple_immutable_error
t = (1, 2)
t[0] = 5

# == set_operations
a, b = {1, 2, 3}, {2, 3, 4}
[sorted(a | b), sorted(a & b), sorted(a - b), sorted(a ^ b), a <= {1, 2, 3, 4}, a.isdisjoint({9})]

# == set_small_ints_repr
print({3, 1, 2}, set(), frozenset({2, 1}))

# == set_add_discard
s = {1}
s.add(2)
s.discard(5)
s.update([3, 4])
sorted(s)

# == set_result_sorted
{"b", "a", "c"}

# == frozenset_result
frozenset([3, 1, 2])

# == set_mixed_unsortable_result
{1, "a"} == {"a", 1}

# == nested_data_result
{"list": [1, (2, 3)], "set": {1}, "none": None, "nested": {"t": (True, False)}}

# == string_keys_non_str_values
{"f": 1.5, "i": -3, "b": False, "n": None, "s": "x"}

# == none_result
None

# == no_result_statement
x = 5

# == result_overrides_last_expression
result = "from result"
"last expression"

# == result_none_explicit
result = None
42

# == last_expression_after_print
print("hi")
[1, 2]

# == last_statement_is_for_loop
total = 0
for i in range(3):
    total += i

# == last_expression_call_returning_none
xs = [2, 1]
xs.sort()

# == last_expression_in_if_not_captured
x = 3
if x:
    x + 1

# == print_end_flush
for i in range(3):
    print(i, end=" ")
print()

# == print_to_stderr_captured
import sys
print("out")
print("err", file=sys.stderr)
sys.stdout.write("raw\n")

# == print_unicode
print("héllo → wörld ✓")

# == print_multiple_lines_then_result
for name in ["a", "b"]:
    print(f"processing {name}")
result = {"done": 2}

# == recursion_factorial
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)

fact(30)

# == recursion_depth_moderate
def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)

depth(200)

# == decorators_stacked
def bold(f):
    return lambda *a: f"<b>{f(*a)}</b>"
def italic(f):
    return lambda *a: f"<i>{f(*a)}</i>"

@bold
@italic
def greet(name):
    return f"hi {name}"

greet("ann")

# == decorator_with_arguments
def repeat(n):
    def deco(f):
        def inner(*a):
            return [f(*a) for _ in range(n)]
        return inner
    return deco

@repeat(3)
def hello(x):
    return x.upper()

hello("a")

# == iterator_protocol_class
class Countdown:
    def __init__(self, n):
        self.n = n
    def __iter__(self):
        return self
    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n + 1

list(Countdown(3))

# == int_identity_and_equality
a = [1, 2]
b = [1, 2]
[a == b, a is b, None is None]

# == boolean_short_circuit
def side(x, log=[]):
    log.append(x)
    return x

r1 = side(0) and side(1)
r2 = side(2) or side(3)
[r1, r2, side.__defaults__[0]]

# == string_multiplication_table
"\n".join(" ".join(f"{i * j:3d}" for j in range(1, 5)) for i in range(1, 4))

# == nested_functions_and_scope
x = "global"
def outer():
    x = "enclosing"
    def inner():
        return x
    return inner()

[outer(), x]

# == type_conversion_chain
[int("7") + float("0.5"), str(3) + "3", list("ab") + list((1,)), tuple([1, 2]), dict([("a", 1)])]

# == sorted_objects_by_multiple_attributes
from dataclasses import dataclass
@dataclass
class E:
    dept: str
    salary: int
    name: str

staff = [E("ops", 50, "x"), E("dev", 70, "y"), E("ops", 60, "z"), E("dev", 70, "a")]
[(e.dept, e.name) for e in sorted(staff, key=lambda e: (e.dept, -e.salary, e.name))]

# == exception_in_generator_propagates
def gen():
    yield 1
    raise ValueError("inside gen")

list(gen())

# == assert_passes
assert [1, 2] == [1, 2]
"passed"

# == del_list_items
xs = list(range(5))
del xs[1], xs[2]
xs

# == integer_caching_irrelevant_equality
[10 ** 3 == 1000, int("1000") == 1000]

# == star_expression_in_literals
a = [1, 2]
b = {"x": 1}
[[*a, 3], {*a}, {**b, "y": 2}, (*a,)]

# == enumerate_unpack_nested
pairs = [("a", 1), ("b", 2)]
[f"{i}:{k}={v}" for i, (k, v) in enumerate(pairs)]

# == string_in_list_membership_speed_irrelevant
allowed = {"read", "write"}
[p for p in ["read", "exec", "write"] if p not in allowed]

# == ternary_chain
def grade(s):
    return "A" if s >= 90 else "B" if s >= 80 else "C" if s >= 70 else "F"

[grade(s) for s in (95, 85, 75, 10)]

# == numeric_tower_comparisons
from fractions import Fraction
[1 == 1.0 == Fraction(1), 0.5 == Fraction(1, 2), hash(1) == hash(1.0)]
