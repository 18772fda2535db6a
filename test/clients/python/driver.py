"""A driver for the real Python Nacos client (nacos-sdk-python, its v2 gRPC API and
NacosAIService) against mcpgate's Nacos gRPC port, run by test/nacos-grpc-clients.test.ts.

    driver.py naming HOST HTTP_PORT GRPC_OFFSET SERVICE
        registers an ephemeral instance, subscribes to its service, prints each instance list
    driver.py config HOST HTTP_PORT GRPC_OFFSET MCP_ID
        reads an MCP server's version and tool configs as Higress does and listens to them
    driver.py ai HOST HTTP_PORT GRPC_OFFSET MCP_NAME ENDPOINT_PORT
        releases an MCP server with a tool, registers its endpoint, gets it, subscribes to it

Each prints what it sees as JSON lines and exits (shutting its client down) when stdin closes.
"""
import asyncio
import json
import os
import sys
import tempfile

from v2.nacos import (ClientConfigBuilder, ConfigParam, GRPCConfig, NacosConfigService, NacosNamingService,
                      RegisterInstanceParam, SubscribeServiceParam)
from v2.nacos.ai.model.ai_param import (GetMcpServerParam, RegisterMcpServerEndpointParam, ReleaseMcpServerParam,
                                        SubscribeMcpServerParam)
from v2.nacos.ai.model.mcp.mcp import McpServerBasicInfo, McpTool, McpToolMeta, McpToolSpecification
from v2.nacos.ai.model.mcp.registry import ServerVersionDetail
from v2.nacos.ai.nacos_ai_service import NacosAIService


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def client_config(host, http_port, offset):
    tmp = os.environ.get("NACOS_DRIVER_DIR") or tempfile.mkdtemp()
    builder = (ClientConfigBuilder()
               .server_address(f"{host}:{http_port}")
               .namespace_id("")
               .log_dir(os.path.join(tmp, "log"))
               .cache_dir(os.path.join(tmp, "cache"))
               .log_level("WARNING")
               .grpc_config(GRPCConfig(port_offset=offset)))
    if os.environ.get("NACOS_USERNAME"):
        builder = builder.username(os.environ["NACOS_USERNAME"]).password(os.environ["NACOS_PASSWORD"])
    return builder.build()


async def stdin_closed():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


def hosts(instances):
    return sorted(f"{i.ip}:{i.port}" for i in instances)


async def naming(cfg, service):
    client = await NacosNamingService.create_naming_service(cfg)
    ok = await client.register_instance(RegisterInstanceParam(
        service_name=service, ip="10.3.0.1", port=8080, ephemeral=True, metadata={"client": "python"}))
    emit("registered", ok=ok)

    async def on_change(instances):
        emit("instances", hosts=hosts(instances))

    await client.subscribe(SubscribeServiceParam(service_name=service, subscribe_callback=on_change))
    emit("ready")
    await stdin_closed()
    await client.shutdown()
    emit("closed")


async def config(cfg, mcp_id):
    client = await NacosConfigService.create_config_service(cfg)
    versions_id = f"{mcp_id}-mcp-versions.json"
    content = await client.get_config(ConfigParam(data_id=versions_id, group="mcp-server-versions"))
    emit("config", dataId=versions_id, content=content)
    version = json.loads(content)["latestPublishedVersion"]

    async def on_change(tenant, group, data_id, content):
        emit("config-change", dataId=data_id, group=group, content=content)

    tools_id = f"{mcp_id}-{version}-mcp-tools.json"
    tools = await client.get_config(ConfigParam(data_id=tools_id, group="mcp-tools"))
    emit("config", dataId=tools_id, content=tools)
    await client.add_listener(versions_id, "mcp-server-versions", on_change)
    await client.add_listener(tools_id, "mcp-tools", on_change)
    emit("ready")
    await stdin_closed()
    await client.shutdown()
    emit("closed")


async def ai(cfg, name, endpoint_port):
    service = await NacosAIService.create_ai_service(cfg)
    server = McpServerBasicInfo(name=name, protocol="mcp-streamable", frontProtocol="mcp-streamable",
                                description="Echo over MCP", versionDetail=ServerVersionDetail(version="1.0.0"))
    tools = McpToolSpecification(
        tools=[McpTool(name="echo", description="Echo a text",
                       inputSchema={"type": "object", "properties": {"text": {"type": "string"}}})],
        toolsMeta={"echo": McpToolMeta(enabled=True)})
    mcp_id = await service.release_mcp_server(ReleaseMcpServerParam(server_spec=server, tool_spec=tools))
    emit("released", mcpId=mcp_id)
    await service.register_mcp_server_endpoint(RegisterMcpServerEndpointParam(
        mcp_name=name, address="127.0.0.1", port=endpoint_port, version="1.0.0"))
    emit("endpoint-registered")
    detail = await service.get_mcp_server(GetMcpServerParam(mcp_name=name))
    emit("detail", detail=json.loads(detail.model_dump_json()))

    async def on_change(mcp_id, namespace_id, mcp_name, detail):
        emit("mcp-update", detail=json.loads(detail.model_dump_json()))

    await service.subscribe_mcp_server(SubscribeMcpServerParam(mcp_name=name, subscribe_callback=on_change))
    emit("ready")
    await stdin_closed()
    await service.shutdown()
    emit("closed")


async def main():
    flow, host, http_port, offset = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    cfg = client_config(host, http_port, offset)
    try:
        if flow == "naming":
            await naming(cfg, sys.argv[5])
        elif flow == "config":
            await config(cfg, sys.argv[5])
        elif flow == "ai":
            await ai(cfg, sys.argv[5], int(sys.argv[6]))
        else:
            raise SystemExit(f"unknown flow {flow}")
    except Exception as e:  # noqa: BLE001 - reported to the test, which fails on it
        emit("error", what=flow, error=f"{type(e).__name__}: {e}")
        raise


if __name__ == "__main__":
    asyncio.run(main())
