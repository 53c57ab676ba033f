select cal.date_day, count(o.order_id) as orders
from {{ ref('local_pkg', 'pkg_calendar') }} as cal
left join {{ ref('orders') }} as o on o.order_date = cal.date_day
group by 1
