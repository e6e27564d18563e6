# redteam: start a background thread that outlives the run
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
thread = importer.load_module("_thread")
def spin():
    while True:
        pass
thread.start_new_thread(spin, ())
result = "started"
