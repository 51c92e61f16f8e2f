import asyncio

from services.assembler.main import main

asyncio.run(main())
