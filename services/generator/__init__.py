"""The generator: writes each chunk with the LLM and stores every attempt."""
