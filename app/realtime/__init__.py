"""Live events: written with the change (outbox), read in order by one listener per instance,
fanned out to websocket subscribers."""
