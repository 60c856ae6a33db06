"""memvox's /mcp driven by the official MCP Python SDK (`mcp`, pinned in scripts/test-mcp-client.sh).

Against a running `memvox serve`: for each connection mode of the SDK's client ("legacy": the
initialize handshake; "auto": the newest protocol the server speaks), connect with an admin token
and with a tool token bound to a caller (an identity token from conversation-init), list the tools
and call each one, checking results, the caller binding and the errors.

Usage: mcp_client.py BASE_URL ADMIN_TOKEN TOOL_TOKEN INIT_SECRET   (exit 0 when every check passes)
"""

import asyncio
import json
import sys
import urllib.request

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

TOOLS = ["search_memories", "add_memory", "get_profile", "forget_memory", "list_recent_calls"]
AGENT = "agent_mcp"
CONVERSATION = "conv_mcp"
checks = 0
negotiated = {}


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def identity_token(base, secret):
    """The identity token conversation-init hands out for a new caller's call."""
    body = json.dumps({
        "caller_id": "+14155550199", "called_number": "+14155550100", "agent_id": AGENT,
        "call_sid": "CA1", "conversation_id": CONVERSATION,
    }).encode()
    request = urllib.request.Request(
        f"{base}/webhook/conversation-init", data=body, method="POST",
        headers={"content-type": "application/json", "x-memvox-secret": secret})
    with urllib.request.urlopen(request, timeout=10) as answer:
        token = json.load(answer)["dynamic_variables"]["memory_user_id"]
    check(token.startswith("mvx1."), f"an identity token, not {token!r}")
    return token


def client(base, mode, headers):
    http = httpx2.AsyncClient(headers=headers, timeout=10)
    return Client(streamable_http_client(f"{base}/mcp", http_client=http), mode=mode)


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    check(not result.is_error, f"{name} {arguments}: {result}")
    return result.structured_content


async def as_admin(base, token, mode):
    async with client(base, mode, {"authorization": f"Bearer {token}"}) as session:
        check(session.server_info.name == "memvox", f"server info {session.server_info}")
        negotiated[mode] = session.protocol_version
        tools = (await session.list_tools()).tools
        check([t.name for t in tools] == TOOLS, f"tools {[t.name for t in tools]}")
        check(all("user_id" in t.input_schema["required"] for t in tools), "admins name the user")
        user = f"alice_{mode}"
        added = await call(session, "add_memory", {"user_id": user, "content": "Has a dog named Rex"})
        found = await call(session, "search_memories", {"user_id": user, "query": "dog named Rex"})
        check([m["id"] for m in found["memories"]] == [added["id"]], f"search {found}")
        profile = await call(session, "get_profile", {"user_id": user})
        check(profile["profile"]["counts"]["total"] == 1, f"profile {profile}")
        check(profile["top_memories"][0]["content"] == "Has a dog named Rex", f"top {profile}")
        calls = await call(session, "list_recent_calls", {"user_id": user, "limit": 3})
        check(calls == {"calls": []}, f"calls {calls}")
        gone = await call(session, "forget_memory", {"user_id": user, "memory_id": added["id"]})
        check(gone == {"deleted": added["id"]}, f"forget {gone}")
        again = await session.call_tool("forget_memory", {"user_id": user, "memory_id": added["id"]})
        check(again.is_error and again.structured_content["error"]["code"] == "not_found", f"{again}")
        try:
            await session.call_tool("drop_database", {})
            check(False, "an unknown tool is an error")
        except MCPError as error:
            check(error.code == -32602 and "unknown tool" in error.message, f"{error.error}")
        return user


async def as_caller(base, token, identity, mode, admins_user):
    headers = {
        "authorization": f"Bearer {token}", "x-memvox-user-id": identity,
        "x-memvox-agent-id": AGENT, "x-memvox-conversation-id": CONVERSATION,
    }
    async with client(base, mode, headers) as session:
        tools = (await session.list_tools()).tools
        check([t.name for t in tools] == TOOLS, "the same tools")
        check(all("user_id" not in t.input_schema.get("properties", {}) for t in tools), "no user_id")
        added = await call(session, "add_memory", {"content": f"Prefers calls in the morning ({mode})"})
        check(added["user_id"].startswith("guest_"), f"the caller's own user, not {added['user_id']}")
        found = await call(session, "search_memories", {"query": "morning calls", "limit": 5})
        check([m["id"] for m in found["memories"]] == [added["id"]], f"only the caller's: {found}")
        profile = await call(session, "get_profile", {})
        check(profile["profile"]["user_id"] == added["user_id"], f"profile {profile}")
        calls = await call(session, "list_recent_calls", {})
        check(calls == {"calls": []}, f"calls {calls}")
        try:
            await session.call_tool("get_profile", {"user_id": admins_user})
            check(False, "a caller cannot name a user")
        except MCPError as error:
            check(error.code == -32602 and "admin tokens" in error.message, f"{error.error}")
        gone = await call(session, "forget_memory", {"memory_id": added["id"]})
        check(gone == {"deleted": added["id"]}, f"forget {gone}")


async def main(base, admin, tool, secret):
    identity = identity_token(base, secret)
    for mode in ["legacy", "auto"]:
        user = await as_admin(base, admin, mode)
        await as_caller(base, tool, identity, mode, user)
    check(negotiated["legacy"] < negotiated["auto"], f"auto negotiates the newer protocol: {negotiated}")
    versions = ", ".join(f"{mode} {version}" for mode, version in negotiated.items())
    print(f"mcp client (python mcp SDK; protocols: {versions}): {checks} passed, 0 failed")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
