# Bus failures are exceptions with the server's reason and context.
# expect: ok {"reason": "client 42 is locked", "uri": "crm.errors.locked", "context": {"client": 42}, "missing": "MethodNotFoundError"}
try:
    crm.fail()
except InvocationFailedError as error:
    failure = {"reason": error.reason, "uri": error.reason_uri, "context": error.context}
try:
    crm.missing()
except BusError as error:
    failure["missing"] = type(error).__name__
result = failure
