select
    payment_method,
    {{ dollars_sum('p.amount') }} as total_amount
from {{ ref('stg_payments') }} as p
group by payment_method
