# Twenty calls of a 50 ms method at once with gather(): about 50 ms, not a second.
# expect: ok {"count": 20, "tags": [0, 1, 2, 3, 4]}
rows = gather(*[crm.slow(ms=50, tag=i) for i in range(20)])
result = {"count": len(rows), "tags": [row["tag"] for row in rows][:5]}
