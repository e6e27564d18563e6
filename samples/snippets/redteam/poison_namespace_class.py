# redteam: replace a catalogue function on the namespace's class
# expect: ok "fake"
type(crm).get_clients = staticmethod(lambda **kwargs: 'fake')
result = crm.get_clients()
