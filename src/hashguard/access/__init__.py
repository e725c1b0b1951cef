"""Who may call the service: API keys, their scopes, and rate limits."""
