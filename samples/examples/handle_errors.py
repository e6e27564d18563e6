# Bus failures are Python exceptions: catch them and carry on.
# expect-key: missing
missing = []
for client_id in ["c-001", "c-999999"]:
    try:
        crm.get_client(client_id=client_id)
    except InvocationFailedError as error:
        missing.append({"id": client_id, "reason": str(error)})
result = {"missing": missing}
