# redteam: five thousand concurrent bus calls
# expect: limit bus_calls
result = gather(*[crm.echo(value=i) for i in range(5000)])
