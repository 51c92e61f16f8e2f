"""The client half of `longform`: commands that talk to a gateway over HTTP and its websocket,
as any user's program would, signed in by a personal API token."""
