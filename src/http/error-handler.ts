import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, errors, invalidRequest } from '../spec/api-error.js';

/**
 * The one place where failures become responses: every error leaves as the documented body
 * `{code, reason, message, metadata}` with its status.
 */
export function installErrorHandler(app: FastifyInstance, maxBodyBytes: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toApiError(error, maxBodyBytes, request.headers['content-length']);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = errors.apiNotFound(request.method, request.url.split('?')[0]);
    return reply.code(apiError.status).send(apiError.toBody());
  });
}

function toApiError(error: FastifyError, maxBodyBytes: number, contentLength: string | undefined): ApiError {
  if (error instanceof ApiError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('body', `the request body is not valid JSON: ${error.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return invalidRequest(
        'body',
        `the request body${contentLength ? ` is ${contentLength} bytes and` : ''} exceeds the limit of ${maxBodyBytes} bytes`,
        { limit_bytes: maxBodyBytes, ...(contentLength ? { value: Number(contentLength) } : {}) },
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return invalidRequest('Content-Type', `Content-Type must be application/json, got ${JSON.stringify(error.message.split(': ').pop())}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest('Content-Length', 'Content-Length does not match the body');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return invalidRequest('body', error.message);
  }
  return errors.internal();
}
