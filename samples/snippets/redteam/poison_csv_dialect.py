# redteam: re-register csv's "excel" dialect with ';' for later runs (the dialect registry is process-wide: the run taints its worker)
# expect: ok [["a", "b"]]
import csv
csv.register_dialect("excel", delimiter=";")
result = list(csv.reader(["a;b"]))
