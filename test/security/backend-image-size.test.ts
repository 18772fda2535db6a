// Finding 10 (backend images): an image or audio answer was passed on whole, base64-encoded, to
// every client — a 15 MB image became a 21 MB tool result. Through a running registry + gateway
// with the official MCP SDK client: over the limit for images and audio (1 MiB) the call is an
// isError result with a short message, whether the backend declares its length or streams it;
// an image under the limit still arrives as image content.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DEFAULT_MAX_MEDIA_BYTES } from '../../src/tools/rest/executor.js';
import { createMcpServer, firstText, modernPost, restTool, waitFor } from '../support/gateway.js';
import { startBackend, startStack } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';

const BIG = randomBytes(15 * 1024 * 1024);
const SMALL = randomBytes(64 * 1024);
const LIMIT = DEFAULT_MAX_MEDIA_BYTES;

describe('finding 10: images and audio from backends are size-limited', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let client: Client;
  let url: string;

  before(async () => {
    backend = await startBackend((r, res) => {
      res.on('error', () => undefined); // the gateway stops reading an answer over the limit
      if (r.path === '/big.png') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(BIG.length) });
        res.end(BIG);
      } else if (r.path === '/streamed.png') {
        // No Content-Length: the limit must hold while the body arrives.
        res.writeHead(200, { 'content-type': 'image/png' });
        let at = 0;
        const next = (): void => {
          while (at < BIG.length) {
            const chunk = BIG.subarray(at, at + 256 * 1024);
            at += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', next);
          }
          res.end();
        };
        res.once('close', () => { at = BIG.length; });
        next();
      } else if (r.path === '/long.wav') {
        res.writeHead(200, { 'content-type': 'audio/wav' });
        res.end(BIG.subarray(0, 3 * 1024 * 1024));
      } else if (r.path === '/small.png') {
        res.writeHead(200, { 'content-type': 'image/png; charset=binary' });
        res.end(SMALL);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    stack = await startStack();
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'charts', endpoint: { type: 'direct', address: '127.0.0.1', port: backend.port },
      spec: {
        version: '1.0.0',
        tools: [restTool('big', { url: '/big.png' }), restTool('streamed', { url: '/streamed.png' }), restTool('audio', { url: '/long.wav' }), restTool('small', { url: '/small.png' })],
      },
    });
    url = `${stack.gatewayUrl}/mcp/public/charts`;
    await waitFor('the server on the gateway', async () => (await modernPost(url, 1, 'tools/list')).status === 200);
    client = new Client({ name: 'image-size', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  });

  after(async () => {
    await client?.close();
    await stack?.close();
    await backend?.close();
  });

  it('a 15 MB image with a declared length is an isError result, not 21 MB of base64', async () => {
    const result = await client.callTool({ name: 'big', arguments: {} });
    assert.equal(result.isError, true);
    assert.equal(firstText(result), `the backend's image is over ${LIMIT} bytes, the limit for images and audio`);
    const raw = await modernPost(url, 2, 'tools/call', { name: 'big', arguments: {} });
    assert.equal(raw.status, 200);
    assert.ok(raw.text.length < 4096, `the answer is ${raw.text.length} characters`);
  });

  it('a streamed image (no Content-Length) is cut off at the limit the same way', async () => {
    const result = await client.callTool({ name: 'streamed', arguments: {} });
    assert.equal(result.isError, true);
    assert.equal(firstText(result), `the backend's image is over ${LIMIT} bytes, the limit for images and audio`);
  });

  it('audio is limited too', async () => {
    const result = await client.callTool({ name: 'audio', arguments: {} });
    assert.equal(result.isError, true);
    assert.equal(firstText(result), `the backend's audio is over ${LIMIT} bytes, the limit for images and audio`);
  });

  it('an image under the limit still arrives as image content, and the gateway serves on', async () => {
    const result = await client.callTool({ name: 'small', arguments: {} });
    assert.notEqual(result.isError, true);
    assert.deepEqual(result.content, [{ type: 'image', data: SMALL.toString('base64'), mimeType: 'image/png' }]);
  });
});
