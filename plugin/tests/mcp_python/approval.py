"""Drives codemode's MCP server under a policy with the official MCP Python SDK, answering its
approval elicitations as told, and reports what it saw. Run by plugin/tests/control_mcp.rs,
which makes the assertions:

    python approval.py --plan PLAN.json --http URL --answer accept|decline|never|none [--mode M]

`none` declares no elicitation support; `never` accepts the request and never answers.
PLAN.json holds `snippets`, a list of [name, code] run in order in one session.
"""

import argparse
import asyncio
import json
import sys

from mcp import Client, types


def texts(result):
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--http", required=True)
    parser.add_argument("--answer", required=True, choices=["accept", "decline", "never", "none"])
    parser.add_argument("--mode", default="legacy")
    args = parser.parse_args()
    with open(args.plan, encoding="utf-8") as file:
        plan = json.load(file)

    asked = []

    async def on_elicit(context, params):
        asked.append({"message": params.message, "schema": params.requested_schema})
        if args.answer == "accept":
            return types.ElicitResult(action="accept", content={"approve": True})
        if args.answer == "decline":
            return types.ElicitResult(action="decline")
        await asyncio.sleep(3600)
        return types.ElicitResult(action="cancel")

    options = {} if args.answer == "none" else {"elicitation_callback": on_elicit}
    async with Client(args.http, mode=args.mode, read_timeout_seconds=120, **options) as client:
        report = {"protocol_version": client.protocol_version, "instructions": client.instructions}
        tools = await client.list_tools()
        report["annotations"] = {
            tool.name: tool.annotations.model_dump(by_alias=True, exclude_none=True)
            if tool.annotations else None
            for tool in tools.tools
        }
        report["listing"] = texts(
            await client.call_tool("list_python_definitions", {"namespace": "order_ticket"}))
        report["runs"] = {}
        for name, code in plan["snippets"]:
            result = await client.call_tool("execute_python_code", {"code": code})
            report["runs"][name] = {"text": texts(result), "is_error": bool(result.is_error)}
        report["asked"] = asked
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main())
