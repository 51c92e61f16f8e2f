"""One-line requests through the real openai and anthropic SDKs."""


def ask_gpt(gpt, prompt, model="fake-gpt", **options):
    return gpt.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}], **options)


def ask_claude(claude, prompt, max_tokens=4000, model="fake-claude", **options):
    messages = [{"role": "user", "content": prompt}]
    return claude.messages.create(model=model, max_tokens=max_tokens, messages=messages, **options)


def stream_gpt(gpt, prompt, **options):
    chunks = list(ask_gpt(gpt, prompt, stream=True, **options))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def stream_claude(claude, prompt, max_tokens=4000):
    messages = [{"role": "user", "content": prompt}]
    with claude.messages.stream(model="fake-claude", max_tokens=max_tokens, messages=messages) as stream:
        text = "".join(stream.text_stream)
        return text, stream.get_final_message()
