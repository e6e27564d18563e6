# "Who is Amelia Reid's adviser?" — one call, the answer only.
# expect: "M Carter"
found = crm.get_clients(name_contains="Amelia Reid")
result = found["clients"][0]["adviser"]
