"""The audit service: the append-only event store, the projections derived from it, live fan-out."""
