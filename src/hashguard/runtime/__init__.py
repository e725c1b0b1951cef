"""What runs beside the requests: following the change log, periodic jobs under leases
(source syncs now), their metrics. HTTP (``hashguard serve``), the CLI and, later, a broker
consumer or an outbox dispatcher are thin adapters over it and the engine."""
