// The image's HEALTHCHECK: liveness of whichever role runs in the container. It asks `/healthz`
// on the registry port and the gateway port (MCPGATE_REGISTRY_PORT / MCPGATE_GATEWAY_PORT,
// default 8848 / 8080) on loopback; a port nobody listens on is skipped (a `gateway` container
// has no registry port). Healthy (exit 0) when one port answers 200 and none answers otherwise.
// Plain Node, no dependency: it runs in the runtime image as is.
/* global fetch, AbortSignal */
const ports = [process.env.MCPGATE_REGISTRY_PORT || '8848', process.env.MCPGATE_GATEWAY_PORT || '8080'];
let up = 0;
let bad = '';
for (const port of ports) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
    await res.body?.cancel();
    if (res.status === 200) up += 1;
    else bad += ` port ${port} answered ${res.status};`;
  } catch (err) {
    const code = err?.cause?.code;
    if (code !== 'ECONNREFUSED') bad += ` port ${port}: ${code ?? err?.message ?? err};`;
  }
}
if (up > 0 && !bad) process.exit(0);
console.error(`unhealthy:${bad || ' nothing listens on ports ' + ports.join(', ')}`);
process.exit(1);
