# typing, dataclasses, enum and __future__.

# == future_annotations
from __future__ import annotations
def f(x: SomeUndefinedType) -> list[int]:
    return [x]

f(1)

# == typing_annotations_runtime
from typing import Optional, Union, Any
def f(a: Optional[int] = None, b: Union[str, int] = "x") -> dict[str, Any]:
    return {"a": a, "b": b}

f(b=2)

# == typing_names_import
from typing import List, Dict, Tuple, Callable, Iterable, TypedDict, NamedTuple, Literal
def total(xs: List[int]) -> int:
    return sum(xs)

total([1, 2, 3])

# == typing_typeddict
from typing import TypedDict
class Movie(TypedDict):
    title: str
    year: int

m = Movie(title="Heat", year=1995)
[m, type(m).__name__]

# == typing_namedtuple_class
from typing import NamedTuple
class Point(NamedTuple):
    x: float
    y: float = 0.0

p = Point(1.5)
[p, p._replace(y=2).y, repr(p)]

# == typing_cast_and_get_type_hints
from typing import cast, get_type_hints
def f(x: int) -> str:
    return str(x)

[cast(int, "not checked"), get_type_hints(f)["x"].__name__]

# == typing_repr_of_generic
from typing import Optional, List
[repr(Optional[int]), repr(List[str]), repr(list[int]), repr(int | None)]

# == typing_literal_get_args
from typing import Literal, get_args, get_origin
Mode = Literal["r", "w"]
[list(get_args(Mode)), get_origin(list[int]).__name__]

# == typing_protocol_runtime_checkable
from typing import Protocol, runtime_checkable
@runtime_checkable
class HasLen(Protocol):
    def __len__(self) -> int: ...

[isinstance([], HasLen), isinstance(5, HasLen)]

# == typing_generic_class
from typing import Generic, TypeVar
T = TypeVar("T")
class Box(Generic[T]):
    def __init__(self, item: T):
        self.item = item

Box[int](5).item

# == dataclass_basics
from dataclasses import dataclass
@dataclass
class Item:
    name: str
    price: float
    qty: int = 1

i = Item("pen", 1.5)
[repr(i), i == Item("pen", 1.5, 1), i.price * i.qty]

# == dataclass_field_default_factory
from dataclasses import dataclass, field
@dataclass
class Cart:
    items: list = field(default_factory=list)
    owner: str = "anon"

a, b = Cart(), Cart()
a.items.append(1)
[a.items, b.items, repr(b)]

# == dataclass_mutable_default_error
from dataclasses import dataclass
@dataclass
class Bad:
    items: list = []

# == dataclass_order_and_frozen
from dataclasses import dataclass
@dataclass(order=True, frozen=True)
class Version:
    major: int
    minor: int

vs = sorted([Version(1, 2), Version(0, 9), Version(1, 0)])
[repr(v) for v in vs]

# == dataclass_frozen_assign_error
from dataclasses import dataclass
@dataclass(frozen=True)
class P:
    x: int

p = P(1)
p.x = 2

# == dataclass_asdict_astuple
from dataclasses import dataclass, asdict, astuple
@dataclass
class Inner:
    v: int
@dataclass
class Outer:
    name: str
    inner: Inner

o = Outer("o", Inner(3))
[asdict(o), astuple(o)]

# == dataclass_replace_fields
from dataclasses import dataclass, replace, fields
@dataclass
class User:
    name: str
    age: int = 0

u = replace(User("ann"), age=31)
[repr(u), [f.name for f in fields(u)]]

# == dataclass_post_init
from dataclasses import dataclass, field
@dataclass
class Rect:
    w: float
    h: float
    area: float = field(init=False)
    def __post_init__(self):
        self.area = self.w * self.h

repr(Rect(2, 3.5))

# == dataclass_missing_arg_error
from dataclasses import dataclass
@dataclass
class P:
    x: int
    y: int

P(1)

# == dataclass_non_default_after_default_error
from dataclasses import dataclass
@dataclass
class P:
    x: int = 0
    y: int

# == dataclass_result_is_repr
from dataclasses import dataclass
@dataclass
class P:
    x: int
    label: str

P(3, "a")

# == dataclass_kw_only_slots
from dataclasses import dataclass
@dataclass(kw_only=True, slots=True)
class Opt:
    verbose: bool = False
    level: int = 1

o = Opt(level=3)
[repr(o), hasattr(o, "__dict__")]

# == dataclass_field_repr_false_compare
from dataclasses import dataclass, field
@dataclass
class Secret:
    user: str
    token: str = field(repr=False, compare=False)

[repr(Secret("a", "t1")), Secret("a", "t1") == Secret("a", "t2")]

# == dataclass_inheritance
from dataclasses import dataclass
@dataclass
class Base:
    id: int
@dataclass
class Child(Base):
    name: str = ""

repr(Child(1, "c"))

# == enum_basics
from enum import Enum
class Color(Enum):
    RED = 1
    GREEN = 2

[Color.RED.name, Color.RED.value, Color(2).name, Color["GREEN"].value, repr(Color.RED), str(Color.RED)]

# == enum_iteration_and_len
from enum import Enum
class Dir(Enum):
    N = "n"
    S = "s"
    E = "e"

[[d.value for d in Dir], len(Dir), Dir.N in Dir]

# == enum_bad_value_error
from enum import Enum
class Color(Enum):
    RED = 1

Color(3)

# == enum_bad_name_error
from enum import Enum
class Color(Enum):
    RED = 1

Color["BLUE"]

# == enum_auto
from enum import Enum, auto
class State(Enum):
    NEW = auto()
    DONE = auto()

[s.value for s in State]

# == int_enum
from enum import IntEnum
class Priority(IntEnum):
    LOW = 1
    HIGH = 3

[Priority.HIGH > Priority.LOW, Priority.LOW + 1, sorted([Priority.HIGH, Priority.LOW])[0].name, str(Priority.HIGH), f"{Priority.HIGH}"]

# == int_enum_result_is_number
from enum import IntEnum
class Level(IntEnum):
    DEBUG = 10

Level.DEBUG

# == str_enum
from enum import StrEnum
class Fruit(StrEnum):
    APPLE = "apple"

[Fruit.APPLE == "apple", str(Fruit.APPLE), f"{Fruit.APPLE}", Fruit.APPLE.upper()]

# == flag_enum
from enum import Flag, auto
class Perm(Flag):
    R = auto()
    W = auto()
    X = auto()

rw = Perm.R | Perm.W
[Perm.R in rw, Perm.X in rw, rw.value, repr(rw)]

# == enum_result_is_repr
from enum import Enum
class Color(Enum):
    RED = 1

Color.RED

# == enum_unique_error
from enum import Enum, unique
@unique
class Dup(Enum):
    A = 1
    B = 1

# == enum_alias_and_members
from enum import Enum
class Shape(Enum):
    SQUARE = 2
    ALIAS = 2

[Shape.ALIAS is Shape.SQUARE, list(Shape.__members__)]

# == enum_in_dict_keys
from enum import Enum
class S(Enum):
    A = "a"
    B = "b"

counts = {S.A: 2, S.B: 5}
{k.value: v for k, v in counts.items()}

# == enum_method
from enum import Enum
class Planet(Enum):
    MERCURY = (3.303e23, 2.4397e6)
    def __init__(self, mass, radius):
        self.mass = mass
        self.radius = radius
    @property
    def gravity(self):
        return 6.673e-11 * self.mass / (self.radius * self.radius)

round(Planet.MERCURY.gravity, 6)
