# redteam: hand csv a file path (csv reads any iterable of lines: a path is just its characters)
# expect: ok [["/"], ["e"], ["t"], ["c"], ["/"], ["h"], ["o"], ["s"], ["t"], ["s"]]
import csv
result = list(csv.reader("/etc/hosts"))
