"""The assembler: builds the document inside Postgres, counts it, and asks for more until it is long enough."""
