"""One-line requests through the real openai and anthropic SDKs, and the structured-output
parameters the Longform client sends."""


def ask_gpt(gpt, prompt, model="fake-gpt", **options):
    return gpt.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}], **options)


def ask_claude(claude, prompt, max_tokens=4000, model="fake-claude", **options):
    messages = [{"role": "user", "content": prompt}]
    return claude.messages.create(model=model, max_tokens=max_tokens, messages=messages, **options)


def stream_gpt(gpt, prompt, **options):
    chunks = list(ask_gpt(gpt, prompt, stream=True, **options))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def stream_claude(claude, prompt, max_tokens=4000, model="fake-claude", **options):
    messages = [{"role": "user", "content": prompt}]
    with claude.messages.stream(model=model, max_tokens=max_tokens, messages=messages, **options) as stream:
        text = "".join(stream.text_stream)
        return text, stream.get_final_message()


def schema_format(name, schema):
    """OpenAI's `response_format` asking for JSON that follows `schema`."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def forced_tool(name, schema):
    """Anthropic's `tools` and a `tool_choice` that forces the one tool."""
    return {"tools": [{"name": name, "description": f"Record the {name}.", "input_schema": schema}],
            "tool_choice": {"type": "tool", "name": name}}
