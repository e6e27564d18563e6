# redteam: install a 3-digit decimal context for later runs (each run's `decimal` starts from a fresh context)
# expect: ok "0.333"
import decimal
decimal.setcontext(decimal.Context(prec=3))
result = str(decimal.Decimal(1) / 3)
