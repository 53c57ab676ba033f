select c.country_code, sum(o.amount) as revenue
from {{ ref('orders') }} as o
join {{ ref('stg_customers') }} as c using (customer_id)
group by 1
