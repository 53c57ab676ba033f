select date_day, dayname(date_day) as weekday
from {{ ref('pkg_calendar') }}
