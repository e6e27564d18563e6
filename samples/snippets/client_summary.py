# Filter and summarise a bus result on the device; only the small answer goes back.
# expect: ok {"clients": 3, "by_region": {"EU": 420, "US": 80}, "top": "Cy", "advisers": ["ann", "ben"]}
from collections import defaultdict

clients = crm.get_clients()
by_region = defaultdict(int)
for client in clients:
    by_region[client["region"]] += client["aum"]
top = max(clients, key=lambda client: client["aum"])
result = {
    "clients": len(clients),
    "by_region": dict(sorted(by_region.items())),
    "top": top["name"],
    "advisers": sorted({client["adviser"] for client in clients}),
}
