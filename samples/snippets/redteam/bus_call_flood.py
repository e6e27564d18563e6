# redteam: a million bus calls in a loop
# expect: limit bus_calls
for i in range(10**6):
    crm.echo(value=i)
