# Top 5 active clients of an adviser by assets, then show the best one's portfolio (an intent).
# expect-key: portfolio_shown_for
clients = crm.get_clients(adviser="M Carter", status="Active")["clients"]
top = sorted(clients, key=lambda c: c["aum"], reverse=True)[:5]
best = top[0]
shown = intents.view_portfolio({"type": "fdc3.contact", "name": best["name"], "id": {"email": best["email"]}})
result = {
    "top5": [f"{c['name']} ({c['currency']} {c['aum']:,.0f})" for c in top],
    "portfolio_shown_for": shown["client"],
}
