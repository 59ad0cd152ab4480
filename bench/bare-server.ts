import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

/**
 * The baseline: the same HTTP framework with no work behind it. A POST that parses JSON and
 * answers an id, and a GET that answers a small object, on the port given as argv[2].
 */
const app = Fastify();
app.post('/bare', async () => ({ task_id: randomUUID() }));
app.get('/bare', async () => ({ task: { status: 'TASK_STATUS_SUCCEED' } }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('listening\n');
