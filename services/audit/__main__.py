import asyncio

from services.audit.main import main

asyncio.run(main())
