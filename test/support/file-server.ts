import { createReadStream, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after } from 'node:test';

/** Serves the files of `directory` on a free loopback port until the test file ends. */
export async function serveDirectory(directory: string): Promise<{ url: (name: string) => string }> {
  const server = createServer((request, response) => {
    const file = path.join(directory, path.basename(decodeURIComponent(request.url ?? '/')));
    if (!existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}` };
}
