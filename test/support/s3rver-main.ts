/**
 * An S3-compatible server (the `s3rver` npm package) in a process of its own, for the tests:
 * `node --import tsx s3rver-main.ts <directory> <bucket>` listens on a free loopback port,
 * prints `{"port": N}` and runs until its stdin closes (its parent ended, however it ended).
 */
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().finally(() => process.exit(0)));
