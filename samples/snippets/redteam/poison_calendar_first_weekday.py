# redteam: change calendar's module-wide first weekday for later runs (each run's `calendar` has its own)
# expect: ok 6
import calendar
calendar.setfirstweekday(calendar.SUNDAY)
result = calendar.firstweekday()
