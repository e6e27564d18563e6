# redteam: restart the loop from finally blocks
# expect: fails
def spin():
    try:
        while True:
            pass
    finally:
        spin()
spin()
