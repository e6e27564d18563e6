# redteam: restart the loop from finally blocks
# expect: contained
def spin():
    try:
        while True:
            pass
    finally:
        spin()
spin()
