import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

/**
 * The baseline: the same HTTP framework with no work behind it, on the port given as argv[2],
 * on the API's own paths, so that the load generator sends it the very requests it sends ours
 * (same paths, query strings, headers and bodies: its cost per request, which shares the
 * machine's two cores, is then the same for both sides). The POST of a model parses the JSON
 * body and answers an id; the Task Result GET answers the same bytes as a real Task Result
 * response (given in BARE_GET_BODY), whatever task it names, so transport and client-side
 * parsing costs are equal and the comparison isolates the server's own work (auth, store,
 * view). Both answer the fixed headers of the real responses too (BARE_HEADERS, a JSON object:
 * the CORS headers).
 */
const getBody = process.env.BARE_GET_BODY ?? '{}';
const headers = JSON.parse(process.env.BARE_HEADERS ?? '{}') as Record<string, string>;
const app = Fastify();
app.post('/v3/async/:model', async (_request, reply) => reply.headers(headers).send({ task_id: randomUUID() }));
app.get('/v3/async/task-result', async (_request, reply) => reply.headers(headers).type('application/json; charset=utf-8').send(getBody));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('listening\n');
// An orderly exit on the bench's SIGTERM, so that a --cpu-prof (BENCH_PROFILE) is written.
process.once('SIGTERM', () => process.exit(0));
