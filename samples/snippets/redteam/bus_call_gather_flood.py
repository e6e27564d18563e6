# redteam: five thousand concurrent bus calls
# expect: limit bus_calls
# message: bus call limit of 1000 calls exceeded
result = gather(*[crm.echo(value=i) for i in range(5000)])
