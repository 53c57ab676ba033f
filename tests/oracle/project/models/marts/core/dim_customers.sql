select
    customer_id::integer as customer_id,
    first_name::varchar as first_name,
    country_code::varchar as country_code
from {{ ref('stg_customers') }}
