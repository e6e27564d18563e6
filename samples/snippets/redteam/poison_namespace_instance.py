# redteam: assign to a catalogue namespace
# expect: error AttributeError
# message: read-only
crm.get_clients = lambda **kwargs: 'fake'
