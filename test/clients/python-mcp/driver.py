"""A client on the Python MCP SDK (`pip install mcp`), driven by test/gateway-sdk-clients.test.ts
against an upstream MCP server through mcpgate: it lists and calls tools, reads a resource, gets a
prompt, receives progress and answers a sampling request.

Usage: python driver.py URL. Prints one JSON object of what it saw; exits 1 on a failure.
"""

import json
import sys

import anyio
import mcp_types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def sampling(_context, _params):
    return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="4"), model="python-agent-model")


def first_text(result) -> str:
    block = result.content[0] if result.content else None
    return getattr(block, "text", "")


async def main(url: str) -> None:
    out: dict = {}
    progress: list[float] = []

    async def on_progress(value, _total, _message):
        progress.append(value)

    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, sampling_callback=sampling) as session:
            await session.initialize()
            tools = await session.list_tools()
            out["tools"] = [t.name for t in tools.tools]
            out["echo"] = first_text(await session.call_tool("echo", {"text": "from python"}))
            read_result = await session.read_resource("file:///readme.txt")
            out["resource"] = getattr(read_result.contents[0], "text", None)
            prompt = await session.get_prompt("greet", {"who": "python"})
            out["prompt"] = getattr(prompt.messages[0].content, "text", None)
            out["sleep"] = first_text(await session.call_tool("sleep", {"ms": 50}, progress_callback=on_progress))
            out["progress"] = len(progress)
            out["sampling"] = first_text(await session.call_tool("ask", {"what": "sampling"}))
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: driver.py URL", file=sys.stderr)
        sys.exit(2)
    anyio.run(main, sys.argv[1])
