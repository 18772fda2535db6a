// A bare Fastify server answering "ok": the ceiling of the registry's HTTP stack.
import Fastify from 'fastify';
import formbody from '@fastify/formbody';

const app = Fastify();
await app.register(formbody);
app.all('/ok', async () => 'ok');
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
