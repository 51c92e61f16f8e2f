"""The gateway: REST and websocket entrypoint. It validates, authorises, emits commands and reads projections."""
