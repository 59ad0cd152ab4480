import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

/**
 * The baseline: the same HTTP framework with no work behind it, on the port given as argv[2].
 * The POST parses the JSON body and answers an id; the GET answers the same bytes as a real
 * Task Result response (given in BARE_GET_BODY), so transport and client-side parsing costs are
 * equal and the comparison isolates the server's own work (auth, store, view). Both answer the
 * fixed headers of the real responses too (BARE_HEADERS, a JSON object: the CORS headers).
 */
const getBody = process.env.BARE_GET_BODY ?? '{}';
const headers = JSON.parse(process.env.BARE_HEADERS ?? '{}') as Record<string, string>;
const app = Fastify();
app.post('/bare', async (_request, reply) => reply.headers(headers).send({ task_id: randomUUID() }));
app.get('/bare', async (_request, reply) => reply.headers(headers).type('application/json; charset=utf-8').send(getBody));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('listening\n');
