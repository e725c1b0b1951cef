"""What was checked before: retroactive matching of the seen log against new entries, and
(to come) spread tracing."""
