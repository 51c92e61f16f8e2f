from services.common.config import ServiceSettings


class GatewaySettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = 8080
    open_signup: bool = True
    max_body_bytes: int = 8 * 1024 * 1024
    max_instructions_chars: int = 100_000
    download_slice_chars: int = 65_536
    live_queue_size: int = 1000  # a websocket client further behind than this re-syncs from the table
