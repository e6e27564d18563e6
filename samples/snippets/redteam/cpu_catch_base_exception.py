# redteam: catch the deadline's exception forever
# expect: contained
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
