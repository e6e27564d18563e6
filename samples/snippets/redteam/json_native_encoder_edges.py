# redteam: feed json.dumps (native for plain data) a self-referencing list, a subclass with a hostile __iter__, and deep nesting; the Python encoder takes over for each
# expect: ok ["ValueError: Circular reference detected", "[1, 2]", 301]
import json
loop = []
loop.append(loop)
try:
    json.dumps(loop)
    first = "no error"
except ValueError as error:
    first = f"ValueError: {error}"
class Sneaky(list):
    def __iter__(self):
        return iter([1, 2])
deep = []
for _ in range(300):
    deep = [deep]
text = json.dumps(deep)
result = [first, json.dumps(Sneaky([9])), text.count("[")]
