# redteam: climb traceback frames looking for a host frame
# expect: ok null
try:
    raise ValueError("x")
except ValueError as error:
    frame = error.__traceback__.tb_frame
    while frame.f_back is not None:
        frame = frame.f_back
    result = frame.f_back
