# Which intents accept an instrument, and who handles them?
# expect-key: intents
found = find_intents(context_type="fdc3.instrument")
result = {"intents": {i["name"]: [h["app"] for h in i["handlers"]] for i in found}}
