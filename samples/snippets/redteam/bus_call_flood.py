# redteam: a million bus calls in a loop
# expect: limit bus_calls
# message: bus call limit of 1000 calls exceeded
for i in range(10**6):
    crm.echo(value=i)
