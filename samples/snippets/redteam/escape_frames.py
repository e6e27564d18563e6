# redteam: climb traceback frames from a function to the outermost frame looking for a host frame, and read that frame's globals, builtins and code
# expect: ok {"depth": 1, "code": ["<module>", "<snippet>"], "globals": ["__builtins__", "__doc__", "__name__", "climb"], "same_builtins": true, "removed": {"open": false, "eval": false, "exec": false, "compile": false}, "import": "import_module"}
def climb():
    try:
        raise ValueError("x")
    except ValueError as error:
        frame = error.__traceback__.tb_frame
    depth = 0
    while frame.f_back is not None:
        frame = frame.f_back
        depth += 1
    builtins = frame.f_builtins
    return {
        "depth": depth,
        "code": [frame.f_code.co_name, frame.f_code.co_filename],
        "globals": sorted(frame.f_globals),
        "same_builtins": builtins is frame.f_globals["__builtins__"],
        "removed": {name: name in builtins for name in ("open", "eval", "exec", "compile")},
        "import": builtins["__import__"].__name__,
    }


result = climb()
