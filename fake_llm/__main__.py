"""python -m fake_llm --host 127.0.0.1 --port 8900 [--default "slow:delay=1"]"""

import argparse

import uvicorn

from fake_llm.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fake_llm", description="Fake OpenAI/Anthropic LLM server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--default",
        help='default behaviour, e.g. "short:fraction=0.5" or "empty:probability=0.3+random_length" '
        "(else $FAKE_LLM_DEFAULT)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.default), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
