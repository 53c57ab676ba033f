{{ config(materialized='incremental', unique_key='order_date') }}

select
    order_date,
    sum(amount) as revenue,
    count(*) as order_count
from {{ ref('orders') }}
where status in ('{{ order_statuses() | join("', '") }}')
{% if is_incremental() %}
  and order_date >= (select max(order_date) from {{ this }})
{% endif %}
group by order_date
