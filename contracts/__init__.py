"""The language of Longform: event envelope, events, commands, subjects, word counter."""
