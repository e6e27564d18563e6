"""Drives codemode's MCP server with the official MCP Python SDK and reports what it saw.

Run by plugin/tests/mcp_python.rs, which makes the assertions:

    python client.py --plan PLAN.json (--stdio COMMAND [ARG ...] | --http URL) [--mode auto|legacy]

PLAN.json holds the snippets. The report is one JSON object on stdout; anything else the SDK
or the server logs goes to stderr.
"""

import argparse
import asyncio
import json
import re
import sys
import time

from mcp import Client, StdioServerParameters


def texts(result):
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def outcome(result):
    return {"text": texts(result), "is_error": bool(result.is_error),
            "structured": result.structured_content is not None}


async def scenario(client, plan):
    report = {
        "protocol_version": client.protocol_version,
        "server_name": client.server_info.name if client.server_info else None,
        "instructions": client.instructions,
    }
    tools = await client.list_tools()
    report["tools"] = [
        {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
        for tool in tools.tools
    ]
    report["listing"] = outcome(await client.call_tool("list_python_definitions", {}))
    report["search"] = outcome(
        await client.call_tool("list_python_definitions", {"query": "client adviser"}))
    report["stubs"] = outcome(
        await client.call_tool("get_python_definitions", {"names": ["crm.get_clients"]}))
    report["answer"] = outcome(
        await client.call_tool("execute_python_code", {"code": plan["adviser"]}))
    report["failure"] = outcome(
        await client.call_tool("execute_python_code", {"code": plan["failing"]}))

    started = time.monotonic()
    report["timeout"] = outcome(await client.call_tool(
        "execute_python_code", {"code": plan["endless"], "timeout_seconds": 0.5}))
    report["timeout"]["seconds"] = time.monotonic() - started

    progress = []

    async def on_progress(value, total, message):
        progress.append({"progress": value, "total": total, "message": message})

    report["three_calls"] = outcome(await client.call_tool(
        "execute_python_code", {"code": plan["three_calls"]}, progress_callback=on_progress))
    # Notifications precede the response on the wire, but the SDK runs progress callbacks as
    # tasks (in arrival order), so one may still be pending when call_tool returns. A marker
    # call's own notification arrives after all of them: once its callback ran, theirs have.
    marker_seen = asyncio.Event()

    async def on_marker_progress(value, total, message):
        marker_seen.set()

    await client.call_tool(
        "execute_python_code", {"code": plan["adviser"]}, progress_callback=on_marker_progress)
    await asyncio.wait_for(marker_seen.wait(), timeout=30)
    report["progress"] = progress

    # A session keeps variables between calls; a large result stays in it by reference.
    async def run(code, **extra):
        return outcome(await client.call_tool("execute_python_code", {"code": code, **extra}))

    first = await run("clients = crm.get_clients()['clients']\nresult = len(clients)",
                      session=True)
    # Without an MCP session (streamable HTTP on 2026-07-28) the answer names an id to pass
    # back; with one, `true` keeps naming the connection's session.
    issued = re.search(r'session="(s-[0-9a-f]{32})"', first["text"])
    session = issued.group(1) if issued else True
    report["session"] = {
        "first": first,
        "id": issued.group(1) if issued else None,
        "kept": await run("result = clients", session=session),
        "by_reference": await run("result = _r1[0]['id'] + ' of ' + str(len(_r1))",
                                  session=session),
        "printed": await run(
            "for client in clients:\n    print(client['id'], client['name'], client['adviser'])",
            session=session),
        "printed_by_reference": await run(
            "result = _p1.splitlines()[-1].split()[0]", session=session),
        "key_error": await run("result = clients[0]['advisor']", session=session),
        "without_session": await run("result = len(clients)"),
        "unknown_id": await run("result = len(clients)",
                                session="s-00000000000000000000000000000000"),
        "after_reset": await run("result = len(clients)", session=session, reset=True),
    }
    return report


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--mode", default="auto")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--http")
    target.add_argument("--stdio", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    with open(args.plan, encoding="utf-8") as file:
        plan = json.load(file)

    if args.http:
        server = args.http
    else:
        command, *rest = args.stdio
        server = StdioServerParameters(command=command, args=rest)
    async with Client(server, mode=args.mode, read_timeout_seconds=120) as client:
        report = await scenario(client, plan)
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main())
