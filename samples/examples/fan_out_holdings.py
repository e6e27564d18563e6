# Holdings of 50 clients fetched concurrently and aggregated on the device.
# expect-key: top_symbols
from collections import Counter

clients = crm.get_clients(adviser="M Carter")["clients"][:50]
books = gather(*[portfolio.get_holdings(client_id=c["id"]) for c in clients])
exposure = Counter()
for book in books:
    for holding in book["holdings"]:
        exposure[holding["symbol"]] += holding["quantity"] * holding["price"]
result = {
    "clients": len(clients),
    "top_symbols": [(symbol, round(value)) for symbol, value in exposure.most_common(5)],
}
