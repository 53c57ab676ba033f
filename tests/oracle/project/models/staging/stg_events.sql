select event_id, customer_id, event_type
from {{ source('events', 'raw_events') }}
