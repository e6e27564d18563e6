# Top-level await with asyncio.gather, and an async helper.
# expect: ok {"names": ["Ada", "Bob", "Cy"], "tags": [10, 20]}
import asyncio


async def tagged(tag):
    row = await crm.slow(ms=20, tag=tag)
    return row["tag"] * 10


ann, ben = await asyncio.gather(crm.get_clients(adviser="ann"), crm.get_clients(adviser="ben"))
tags = await asyncio.gather(tagged(1), tagged(2))
result = {"names": sorted(client["name"] for client in ann + ben), "tags": tags}
