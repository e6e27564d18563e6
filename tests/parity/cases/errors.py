# Error types and messages a model reads back to fix its snippet.

# == name_error_plain
undefined_thing + 1

# == name_error_did_you_mean_local
total_count = 3
total_cuont

# == name_error_did_you_mean_builtin
lenn([1, 2])

# == name_error_in_function
def f():
    return missing_name

f()

# == name_error_did_you_mean_in_function
def f():
    values = [1]
    return valuse

f()

# == unbound_local_error
count = 0
def bump():
    count += 1

bump()

# == key_error_message
d = {"a": 1}
d["b"]

# == key_error_int_key
{1: "x"}[2]

# == key_error_tuple_key
{}[(1, 2)]

# == key_error_caught_args
try:
    {}["missing"]
except KeyError as e:
    result = [str(e), repr(e), e.args]

# == index_error_list
[1, 2, 3][3]

# == index_error_tuple
(1,)[5]

# == index_error_pop_empty
[].pop()

# == index_error_pop_index
[1].pop(4)

# == index_error_str
"ab"[-3]

# == index_assignment_error
xs = [1]
xs[2] = 5

# == type_error_missing_positional
def greet(name, greeting):
    return f"{greeting}, {name}"

greet("Ann")

# == type_error_missing_two_positional
def area(w, h):
    return w * h

area()

# == type_error_too_many_positional
def one(a):
    return a

one(1, 2)

# == type_error_unexpected_keyword
def f(a, b=2):
    return a + b

f(1, c=3)

# == type_error_multiple_values
def f(a, b=2):
    return a + b

f(1, a=3)

# == type_error_keyword_only_missing
def f(*, key):
    return key

f()

# == type_error_keyword_only_positional
def f(a, *, key=None):
    return a

f(1, 2)

# == type_error_positional_only_as_keyword
def f(a, /, b):
    return a + b

f(a=1, b=2)

# == type_error_method_missing_arg
class Box:
    def put(self, item):
        return item

Box().put()

# == type_error_method_too_many
class Box:
    def put(self, item):
        return item

Box().put(1, 2)

# == type_error_init_args
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

Point(1)

# == type_error_builtin_arg_count
len([1], [2])

# == type_error_builtin_no_keywords
len(obj=[1])

# == type_error_unsupported_operand
[1] + (2,)

# == type_error_unsupported_operand_int_str
1 + "2"

# == type_error_str_plus_int
"a" + 1

# == type_error_not_callable
x = 5
x()

# == type_error_not_subscriptable
x = 5
x[0]

# == type_error_none_subscript
def find():
    return None

find()["id"]

# == type_error_not_iterable
for item in 42:
    pass

# == type_error_unhashable_list_key
{[1, 2]: "x"}

# == type_error_unhashable_set_item
{1, {2}}

# == type_error_comparison
3 < "4"

# == type_error_none_comparison
sorted([3, None])

# == type_error_int_argument
int([1])

# == type_error_unpack_non_iterable
a, b = 5

# == value_error_unpack_too_many
a, b = [1, 2, 3]

# == value_error_unpack_not_enough
a, b, c = [1, 2]

# == value_error_int_parse
int("12abc")

# == value_error_int_parse_base
int("9", 8)

# == value_error_float_parse
float("abc")

# == value_error_list_remove
[1, 2].remove(3)

# == value_error_math_domain
import math
math.sqrt(-1)

# == value_error_math_log
import math
math.log(0)

# == zero_division_messages
msgs = []
for expr in (lambda: 1 / 0, lambda: 1 // 0, lambda: 1 % 0, lambda: 1.0 / 0, lambda: 2 ** -1 % 0):
    try:
        expr()
    except ZeroDivisionError as e:
        msgs.append(str(e))
msgs

# == zero_division_float_floor
1.5 // 0.0

# == attribute_error_instance
class User:
    def __init__(self):
        self.name = "ann"

User().nmae

# == attribute_error_did_you_mean_method
[1, 2].apend(3)

# == attribute_error_str_method
"abc".startwith("a")

# == attribute_error_none
x = None
x.get("a")

# == attribute_error_module
import math
math.tau2

# == attribute_error_dict_dot_access
d = {"name": "x"}
d.name

# == attribute_error_int
(5).real_part

# == attribute_error_class
class A:
    pass

A.missing

# == attribute_error_set_on_builtin
x = [1]
x.size = 3

# == import_error_missing_name
from math import tauu

# == module_not_found
import definitely_not_a_module

# == recursion_error_message
def f(n):
    return f(n + 1)

try:
    f(0)
except RecursionError as e:
    result = type(e).__name__

# == assertion_error_message
assert 1 == 2, "numbers differ"

# == assertion_error_bare
assert False

# == raise_custom_exception
class ValidationError(Exception):
    pass

raise ValidationError("bad row 3")

# == raise_from_cause
try:
    try:
        {}["k"]
    except KeyError as e:
        raise ValueError("lookup failed") from e
except ValueError as e:
    result = [str(e), type(e.__cause__).__name__]

# == exception_context
try:
    try:
        1 / 0
    except ZeroDivisionError:
        raise KeyError("x")
except KeyError as e:
    result = type(e.__context__).__name__

# == exception_str_repr
e = ValueError("bad", 3)
[str(e), repr(e), e.args]

# == exception_no_args_str
[str(ValueError()), repr(ValueError()), str(KeyError())]

# == exception_in_finally_ordering
log = []
try:
    try:
        log.append("try")
        raise RuntimeError("boom")
    finally:
        log.append("finally")
except RuntimeError as e:
    log.append(str(e))
log

# == exception_else_clause
out = []
for v in ["1", "x"]:
    try:
        n = int(v)
    except ValueError:
        out.append("bad")
    else:
        out.append(n)
out

# == exception_group_catch
try:
    raise ExceptionGroup("many", [ValueError("a"), TypeError("b")])
except* ValueError as group:
    result = [str(e) for e in group.exceptions]
except* TypeError:
    pass

# == exception_group_message
eg = ExceptionGroup("two errors", [ValueError("x"), KeyError("y")])
[str(eg), len(eg.exceptions)]

# == exception_uncaught_group
raise ExceptionGroup("batch failed", [ValueError("row 1"), ValueError("row 2")])

# == stop_iteration_value
def gen():
    yield 1
    return "done"

g = gen()
next(g)
try:
    next(g)
except StopIteration as e:
    result = e.value

# == generator_already_exhausted
g = (x for x in [1])
list(g)
list(g)

# == type_error_abstract_instantiation
from abc import ABC, abstractmethod
class Shape(ABC):
    @abstractmethod
    def area(self): ...

Shape()

# == not_implemented_error
class Base:
    def run(self):
        raise NotImplementedError("subclasses implement run")

Base().run()

# == overflow_error_float
import math
math.exp(1000)

# == overflow_int_to_float
2 ** 2000 / 1.0

# == lookup_error_base_catch
caught = []
for thunk in (lambda: [][1], lambda: {}["k"]):
    try:
        thunk()
    except LookupError as e:
        caught.append(type(e).__name__)
caught

# == error_printed_before_failure
print("step 1")
print("step 2")
raise RuntimeError("step 3 failed")

# == exception_notes
try:
    raise ValueError("bad")
except ValueError as e:
    e.add_note("while parsing row 7")
    result = e.__notes__

# == type_error_str_join_ints
"-".join([1, 2, 3])

# == type_error_sum_str
sum(["a", "b"])

# == type_error_dict_update
{}.update(1)

# == type_error_list_sort_key_arg
[3, 1].sort(lambda x: x)

# == type_error_float_format_none
"%d" % None

# == type_error_str_index_float
position = 1.0
"abc"[position]

# == type_error_list_indices_str
key = "0"
[1, 2][key]

# == type_error_int_not_iterable_unpack
x, = 3

# == type_error_bad_operand_unary
-"a"

# == type_error_object_not_reversible
reversed({1, 2})

# == value_error_dict_sequence
dict([(1, 2, 3)])

# == value_error_chr_range
chr(-1)

# == value_error_max_arg_empty_sequence
max(x for x in [])

# == value_error_tuple_index
(1, 2).index(9)

# == value_error_str_index_bad_format
"{:d}".format("a")

# == key_error_del
d = {}
del d["gone"]

# == key_error_pop
{}.pop("gone")

# == key_error_set_remove
s = {1}
s.remove(2)

# == name_error_del_then_use
x = 1
del x
x

# == unbound_local_in_branch
def f(flag):
    if flag:
        value = 1
    return value

f(False)

# == attribute_error_nonetype_method_chain
import re
re.match(r"\d+", "abc").group()

# == error_in_comprehension
[1 / x for x in [1, 0]]

# == error_message_from_custom_init
class AppError(Exception):
    def __init__(self, code, msg):
        super().__init__(f"[{code}] {msg}")
        self.code = code

try:
    raise AppError(404, "not found")
except AppError as e:
    result = [str(e), e.code]

# == error_uncaught_custom_with_args
class AppError(Exception):
    pass

raise AppError("code", 7)

# == try_except_tuple_of_types
def safe(f):
    try:
        return f()
    except (ValueError, ZeroDivisionError) as e:
        return type(e).__name__

[safe(lambda: int("x")), safe(lambda: 1 / 0), safe(lambda: 5)]

# == keyboard_interrupt_not_exception
issubclass(KeyboardInterrupt, Exception)

# == exception_hierarchy_mro
[c.__name__ for c in ZeroDivisionError.__mro__]

# == type_error_getattr_nonstring
getattr([], 5)

# == type_error_call_with_star_nonmapping
def f(**kw):
    return kw

f(**[1])

# == syntax_error_reported
x = (1,
