"""What a verdict sets off: its record in the match log and its event in the outbox, from
which deliverers (webhooks) take it."""
