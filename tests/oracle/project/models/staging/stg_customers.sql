select
    id as customer_id,
    first_name,
    last_name,
    country_code
from {{ source('shop', 'customers') }}
